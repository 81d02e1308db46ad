"""The machinery every statistic shares: inputs, resampling, multiple testing, parallel blocks."""
