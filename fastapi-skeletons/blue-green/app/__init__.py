"""FastAPI service generated from the Golden Path Portal (blue-green template).

The version is not in the code: the image is built with ``--build-arg APP_VERSION=X.Y.Z``
and the Dockerfile bakes it in as the environment variable ``APP_VERSION``, so one commit
builds the blue (1.x) and the green (2.x) image. ``app.settings`` validates it.
"""

import os

__version__ = os.environ.get("APP_VERSION", ${{ values.imageTag | dump }})
