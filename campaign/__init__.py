"""wavecast: plan, preview and send multi-wave, multi-language awareness campaigns."""

# The channels install themselves in the table that models, settings and rendering read.
from campaign import channels

__all__ = ["channels"]
