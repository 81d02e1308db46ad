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
    if multipart:
        server.part_size[remote.key(prefix)] = 8 * MIB
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
    with pytest.raises(dl.ETagMismatchError, match=f"replicate_level_l1k.csv.gz: ETag mismatch: expected {remote.etag}.*bad bytes removed"):
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


def _listing(remote, **changes):
    """The registry's 2022 entry for an object the bucket has since rewritten."""
    return RemoteFile(remote.dataset, remote.modality, remote.name, changes.get("size", remote.size),
                      changes.get("etag", "0123456789abcdef0123456789abcdef-14"), remote.release)


def test_changed_object_downloads_verified_against_the_bucket_and_is_reported(server, tmp_path):
    today, body = make_file(server, "replicate_level_cp_normalized_variable_selected.csv.gz", 300_000)
    listed = _listing(today, size=117_242_590)
    with pytest.warns(dl.ChangedSinceListingWarning, match="changed since the 2022-02-25 listing"):
        path = dl.download_file(listed, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body
    record = dl.read_provenance(tmp_path)[listed.relative_path]
    assert record["etag"] == hashlib.md5(body).hexdigest() and record["size"] == len(body)
    assert record["changed_since_listing"] is True and record["listing_etag"] == listed.etag
    assert record["last_modified"] == "Mon, 25 Apr 2022 17:00:00 GMT"
    assert record["key"] == listed.key()


def test_changed_object_with_bad_bytes_is_removed(server, tmp_path):
    today, _ = make_file(server, "replicate_level_l1k.csv.gz", 50_000)
    server.corrupt.add(today.key())
    with pytest.warns(dl.ChangedSinceListingWarning):
        with pytest.raises(dl.ETagMismatchError, match="the bucket's ETag; bad bytes removed"):
            dl.download_file(_listing(today), tmp_path, base_url=server.url, progress=False)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_multipart_part_size_is_inferred_beyond_the_common_sizes(server, tmp_path):
    body = bytes(i % 253 for i in range(13 * MIB + 5))
    remote = RemoteFile("TA-ORF-BBBC037-Rohban", "ge", "replicate_level_l1k_QNORM.csv.gz", None, None)
    server.objects[remote.key()] = body
    server.part_size[remote.key()] = 6 * MIB  # 3 parts of 6 MiB: not a common part size
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body
    assert dl.read_provenance(tmp_path)[remote.relative_path]["etag"] == multipart_etag(body, 6 * MIB)


def test_server_errors_and_throttling_are_retried(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 20_000)
    server.statuses[remote.key()] = [503, 429, 500]
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False, backoff=0.01)
    assert path.read_bytes() == body
    assert [r[0] for r in server.requests].count("GET") == 4


def test_refused_head_falls_back_to_a_ranged_get(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 20_000)
    server.head_status[remote.key()] = 403
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False, retries=1, backoff=0.01)
    assert path.read_bytes() == body
    assert ("GET", remote.key(), "bytes=0-0") in server.requests


def test_only_404_everywhere_says_moved(server, tmp_path):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 1000)
    server.head_status[remote.key()] = 500
    server.statuses[remote.key()] = [500] * 10
    with pytest.raises(dl.DownloadError, match="did not answer") as error:
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, retries=1, backoff=0.01)
    assert "moved?" not in str(error.value)


def test_oversized_body_is_named_as_such(server, tmp_path):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 5000)
    server.oversize.add(remote.key())
    with pytest.raises(dl.DownloadError, match="sent 5011 bytes where it announced 5000"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, retries=0)


def test_a_file_the_package_did_not_write_is_left_alone(server, tmp_path):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 5000)
    mine = tmp_path / remote.relative_path
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my own notes")
    with pytest.raises(dl.DownloadError, match="not downloaded by rosetta_stats, so it is left alone"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert mine.read_bytes() == b"my own notes"
    mine.unlink()
    dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    mine.write_bytes(b"stale")  # a file it downloaded before, since changed: replaced
    assert dl.download_file(remote, tmp_path, base_url=server.url, progress=False).read_bytes() == body


def test_a_second_download_of_the_same_file_is_refused_while_the_first_runs(server, tmp_path):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 5000)
    part = tmp_path / (remote.relative_path + ".part")
    part.parent.mkdir(parents=True)
    with dl._PartLock(part):
        with pytest.raises(dl.DownloadError, match="being downloaded by another process"):
            dl.download_file(remote, tmp_path, base_url=server.url, progress=False)


# ---------------------------------------------------------------- servers that prove less, and hostile folders

def bare_file(server, name, size):
    """An object the server describes with neither length nor ETag, and that the registry does not list."""
    body = bytes((i * 13) % 251 for i in range(size))
    remote = RemoteFile("TA-ORF-BBBC037-Rohban", "ge", name, None, None)
    server.objects[remote.key(PREFIXES[0])] = body
    server.bare.add(remote.key(PREFIXES[0]))
    return remote, body


def test_without_length_or_etag_a_dropped_stream_is_not_called_complete(server, tmp_path):
    remote, body = bare_file(server, "replicate_level_l1k.csv.gz", 200_000)
    server.drop_after[remote.key(PREFIXES[0])] = 50_000  # the first stream ends early, as if complete
    with pytest.warns(dl.UnverifiableETagWarning, match="no content hash"):
        path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False, backoff=0)
    assert path.read_bytes() == body  # the ranged check found the missing bytes and fetched them
    assert dl.read_provenance(tmp_path)[remote.relative_path]["sha256"] == hashlib.sha256(body).hexdigest()


def test_without_length_etag_or_ranges_completeness_cannot_be_told(server, tmp_path):
    remote, _ = bare_file(server, "replicate_level_l1k.csv.gz", 20_000)
    server.ignore_range.add(remote.key(PREFIXES[0]))
    with pytest.raises(dl.DownloadError, match="whether the file is complete cannot be told"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, backoff=0)
    assert not (tmp_path / remote.relative_path).exists()


def test_a_trickling_server_is_given_up_with_the_bytes_kept(server, tmp_path, monkeypatch):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 50_000)
    server.trickle[remote.key(PREFIXES[0])] = 2_000  # bytes per second
    monkeypatch.setattr(dl, "RATE_WINDOW", 0.5)
    with pytest.raises(dl.DownloadError, match="below the minimum of 10000 B/s"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, min_rate=10_000, retries=0)
    assert not (tmp_path / remote.relative_path).exists()
    with pytest.raises(dl.DownloadError, match="passed its deadline"):
        dl.download_file(remote, tmp_path, base_url=server.url, progress=False, deadline=0.3, retries=0)


@pytest.mark.parametrize("etag", ['"5e8c7a2b-1f4"', 'W/"abc123"'])
def test_mirror_etags_are_checked_by_size_and_recorded_by_sha256(server, tmp_path, etag):
    remote, body = make_file(server, "replicate_level_l1k.csv.gz", 30_000)
    remote = RemoteFile(remote.dataset, remote.modality, remote.name, remote.size, None)
    server.etags[remote.key(PREFIXES[0])] = etag
    with pytest.warns(dl.UnverifiableETagWarning):
        path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert path.read_bytes() == body
    entry = dl.read_provenance(tmp_path)[remote.relative_path]
    assert entry["etag_kind"] == "opaque" and entry["sha256"] == hashlib.sha256(body).hexdigest()
    gets = sum(1 for method, *_ in server.requests if method == "GET")
    dl.download_file(remote, tmp_path, base_url=server.url, progress=False)  # recognised by its sha256
    assert sum(1 for method, *_ in server.requests if method == "GET") == gets
    path.write_bytes(body[:-1] + b"\x00")  # same size, other bytes: fetched again
    assert dl.download_file(remote, tmp_path, base_url=server.url, progress=False).read_bytes() == body


@pytest.mark.parametrize("planted", [".part", ".part.lock", "downloads.json.lock"])
def test_planted_links_are_refused_and_their_targets_untouched(server, tmp_path, planted):
    remote, _ = make_file(server, "replicate_level_l1k.csv.gz", 20_000)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = (tmp_path / "dest" / remote.relative_path).parent
    folder.mkdir(parents=True)
    link = (tmp_path / "dest" / "downloads.json.lock") if planted == "downloads.json.lock" else \
        folder / (remote.name + planted)
    link.symlink_to(victim)
    with pytest.raises(dl.DownloadError, match="symbolic link"):
        dl.download_file(remote, tmp_path / "dest", base_url=server.url, progress=False)
    assert victim.read_text() == "precious"


def test_a_downloaded_file_damaged_afterwards_is_refused_when_read(server, tmp_path):
    import rosetta_stats as rs
    body = "pert,Cells_a,Cells_b\n" + "".join(f"p{i % 5},{i},{i * 2}\n" for i in range(40))
    remote = RemoteFile("TA-ORF-BBBC037-Rohban", "ge", "replicate_level_cp.csv", len(body),
                        hashlib.md5(body.encode()).hexdigest())
    server.objects[remote.key(PREFIXES[0])] = body.encode()
    path = dl.download_file(remote, tmp_path, base_url=server.url, progress=False)
    assert len(rs.read_profiles(path, "cp", perturbation="pert").data) == 40
    path.write_text(body.replace("p1,6,12", "p1,9,12"))  # one byte flipped, the size kept
    with pytest.raises(ValueError, match="changed since it was downloaded"):
        rs.read_profiles(path, "cp", perturbation="pert")
