import pytest
from tests.assets.test_provenance_page import *  # noqa
from tests.assets.test_provenance_page import _post, _dev_signing  # noqa

def test_dump(client, partner, signed):
    p = signed("jpg"); flip_middle_byte(p)
    r = _post(client, p, sidecar_path(p))
    open("/tmp/provexp/invalid.html","w").write(r.content.decode())
    r = _post(client, signed("mp4"))
    open("/tmp/provexp/valid.html","w").write(r.content.decode())
