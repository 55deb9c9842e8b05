"""A real S3 endpoint for the object-store tests: moto's server on 127.0.0.1, one per session."""

from __future__ import annotations

import logging
import os
import uuid

import pytest

from tests.pipeline.conftest import cli_in_process, make_cfg  # noqa: F401  (pipeline fixtures)

_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of a moto S3 server on 127.0.0.1 (stopped after the session); dummy credentials are
    set in the environment, which subprocesses inherit."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    saved = {k: os.environ.get(k) for k in _CREDENTIALS}
    os.environ.update(_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_root(s3_endpoint):
    """(root URL in a fresh bucket, storage_options) for one test."""
    import s3fs

    options = {"endpoint_url": s3_endpoint}
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(**options).mkdir(bucket)
    return f"s3://{bucket}/store", options
