"""numpy-only kernels: arrays in, arrays out, no pandas."""
