from .db import Database
from .models import Base

__all__ = ["Base", "Database"]
