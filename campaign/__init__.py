"""wavecast: plan, preview and send multi-wave, multi-language awareness campaigns."""
