"""Errors a user can cause. Each names what went wrong and what to do; the CLI prints one line."""


class SinGANError(Exception):
    """Base of every error caused by user input (the CLI turns these into a one-line message)."""


class ConfigError(SinGANError, ValueError):
    """A configuration value is out of range; the message names the field."""


class PlanningError(SinGANError, ValueError):
    """An image cannot be planned into a pyramid with the given configuration."""


class ImageTooSmall(PlanningError):
    """The image's short side is below the coarsest scale's size."""


class ImageTooElongated(PlanningError):
    """Fitting the long side to max_size pushes the short side below min_size."""


class ScaleOutOfRange(SinGANError, ValueError):
    """A start or injection scale outside the model's pyramid."""


class ShapeMismatch(SinGANError, ValueError):
    """A reference image or mask that does not fit the model."""


class InvalidRequest(SinGANError, ValueError):
    """A generation or application request that cannot be carried out (an output size, a factor)."""


class NotAModel(SinGANError):
    """A run folder or checkpoint that does not hold a (complete, intact) trained model."""


class BadImage(SinGANError):
    """A file that is missing or cannot be read as an image."""


class TrainingDiverged(SinGANError):
    """A loss became NaN or infinite: the scale cannot recover, so training stops; the message
    names the scale, the iteration and the loss, and what to change."""
