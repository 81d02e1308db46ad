"""Statistics: numpy kernels, multiple testing, replicates, mAP, cross-modal correlation, predictability."""
