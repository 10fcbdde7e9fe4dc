"""Gunicorn configuration for ``gunicorn -c gunicorn.conf.py 'cryptolens:create_app()'``.

The values live in the package (cryptolens/gunicorn_conf.py) so an installed CryptoLens and
``cryptolens serve --production`` use the same ones.
"""

from cryptolens.gunicorn_conf import *  # noqa: F403
