"""The MindSpore backend. The only package that imports mindspore.

Importing it sets the environment MindSpore reads at import time (see ``device``) first.
"""
from adapters.mindspore.device import prepare_environment

prepare_environment()
