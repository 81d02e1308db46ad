"""Downloads against a loopback server laid out like the bucket, including faults."""
from __future__ import annotations

import hashlib

import pytest

from rosetta_stats.data import download as dl
from rosetta_stats.data.registry import PREFIXES, RemoteFile

from tests.helpers.bucket_server import BucketServer

MIB = 1024 * 1024


def multipart_etag(body: bytes, part_size: int) -> str:
    """Independent twin of the S3 multipart ETag rule."""
    parts = [hashlib.md5(body[i:i + part_size]).digest() for i in range(0, len(body), part_size)]
    return hashlib.md5(b"".join(parts)).hexdigest() + f"-{len(parts)}"


@pytest.fixture()
def server():
    s = BucketServer()
    yield s
    s.close()


def make_file(server, name, size, multipart=False, prefix=PREFIXES[0], seed=0):
    body = bytes((i * 7 + seed) % 251 for i in range(size))
    etag = multipart_etag(body, 8 * MIB) if multipart else hashlib.md5(body).hexdigest()
    remote = RemoteFile("TA-ORF-BBBC037-Rohban", "ge", name, size, etag)
    server.objects[remote.key(prefix)] = body
    return remote, body


def test_single_part_download_is_verified_and_skipped_next_time(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 300_000)
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body
    assert path == tmp_path / "TA-ORF-BBBC037-Rohban/L1000/replicate_level_l1k.csv.gz"
    n_gets = sum(1 for r in server.requests if r[0] == "GET")
    dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert sum(1 for r in server.requests if r[0] == "GET") == n_gets  # already verified: not fetched


def test_multipart_etag_is_verified(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k_QNORM.csv.gz", 17 * MIB + 123, multipart=True)
    assert remote.etag.endswith("-3")
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body


def test_dropped_connection_resumes_with_range(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 2 * MIB + 5)
    server.drop_after[remote.key()] = MIB + 17
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False, backoff=0.01)
    assert path.read_bytes() == body
    ranges = [r[2] for r in server.requests if r[0] == "GET" and r[2]]
    assert ranges == [f"bytes={MIB + 17}-"]


def test_truncated_body_raises_and_leaves_no_final_file(server, tmp_path):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 400_000)
    server.truncate.add(remote.key())
    with pytest.raises(dl.DownloadError, match="truncated download: got .* of 400000 bytes"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, retries=2, backoff=0.01)
    final = tmp_path / remote.relative_path
    assert not final.exists()
    assert final.with_name(final.name + ".part").exists()  # kept to resume later


def test_corrupted_body_is_deleted_and_named(server, tmp_path):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 100_000)
    server.corrupt.add(remote.key())
    with pytest.raises(dl.ETagMismatchError, match=f"replicate_level_l1k.csv.gz: ETag mismatch: expected {remote.etag}"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    folder = (tmp_path / remote.relative_path).parent
    assert list(folder.iterdir()) == []


def test_missing_object_names_both_prefixes(server, tmp_path):
    remote = RemoteFile("TA-ORF-BBBC037-Rohban", "ge", "nothing.csv.gz", 10, "0" * 32)
    with pytest.raises(dl.DownloadError, match="moved\\?.*cpg0003-rosetta/.*404.*rosetta/broad.*404"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False)


def test_old_prefix_is_used_when_the_new_one_is_missing(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 5000, prefix=PREFIXES[1])
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body


def test_unverifiable_multipart_etag_warns(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    with pytest.warns(dl.UnverifiableETagWarning, match="cannot verify"):
        assert dl.verify_etag(path, "0" * 32 + "-5") is False


def test_compute_etag_matches_the_rule(tmp_path):
    body = bytes(range(256)) * 50_000
    path = tmp_path / "f.bin"
    path.write_bytes(body)
    assert dl.compute_etag(path) == hashlib.md5(body).hexdigest()
    assert dl.compute_etag(path, 2, 8 * MIB) == multipart_etag(body, 8 * MIB)
