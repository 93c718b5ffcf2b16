import sys
from pathlib import Path

# tests/datagen.py is shared by all test folders
sys.path.insert(0, str(Path(__file__).parent))

# ecCodes ships its own libproj; importing pyproj first keeps EPSG lookups working
import pyproj  # noqa: E402,F401
