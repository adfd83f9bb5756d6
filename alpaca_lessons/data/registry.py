"""The registry of public data sets the course uses, and how a name becomes a verified local file.

Every data set is real and public. The repository never copies them: a name is resolved, in order, to
1. a local mirror directory (``$ALPACA_LESSONS_DATA``, laid out like the course's ``shared/data``),
2. the user cache (``$ALPACA_LESSONS_CACHE``, else ``~/.cache/alpaca-lessons``),
3. a download from the canonical URL (a raw file at a pinned upstream commit) into that cache.
Whatever the source, the file's sha256 must match the registry before it is used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from alpaca_lessons.common.errors import DataError

MIRROR_ENV = "ALPACA_LESSONS_DATA"
CACHE_ENV = "ALPACA_LESSONS_CACHE"

_SELF_INSTRUCT = "yizhongw/self-instruct", "0b26ccaa415992100fa32df62d41b994cf928e23"
_ALPACA = "tatsu-lab/stanford_alpaca", "761dc5bfbdeeffa89b8bff5d038781a4055f796a"
_ALPACA_PR24 = "tatsu-lab/stanford_alpaca", "9787a2358bfdc97e33f436388773baa81a3d65a7"
_ALPACA_EVAL = "tatsu-lab/alpaca_eval", "cd543a149df89434d8a54582c0151c0b945c3d20"
_BELLE = "LianjiaTech/BELLE", "645084d36454cdeb4e7f1ce9b2f3426bac39f1f9"

APACHE = "Apache-2.0"
CC_BY_NC = "CC BY-NC 4.0"
ODC_BY = "ODC-By 1.0"


@dataclass(frozen=True)
class Dataset:
    """One public file: where it lives upstream, what it must hash to, and what it holds."""

    name: str
    mirror_path: str  # relative path inside a mirror directory
    repo: str
    commit: str
    upstream_path: str
    sha256: str  # of the canonical (upstream, uncompressed) file
    license: str
    records: int | None  # number of records, None for a single text
    description: str
    mirror_sha256: str | None = None  # when the mirror stores the file gzipped

    @property
    def url(self) -> str:
        """The canonical download address: the raw file at the pinned upstream commit."""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.upstream_path}"

    @property
    def filename(self) -> str:
        """The file name in the user cache (the upstream name, uncompressed)."""
        return self.mirror_path.removesuffix(".gz")


def _si(name: str, path: str, sha: str, records: int | None, desc: str, upstream: str | None = None) -> Dataset:
    return Dataset(name, f"self_instruct/{path}", *_SELF_INSTRUCT, upstream or path, sha, APACHE, records, desc)


def _predictions(model: str, sha: str) -> Dataset:
    path = f"human_eval/predictions/{model}_predictions.jsonl"
    desc = f"{model}'s responses to the 252 user-oriented instructions (prompt, instruction, input, response, target)."
    return _si(f"predictions/{model}", path, sha, 252, desc)


def _ae(name: str, path: str, upstream: str, sha: str, records: int, desc: str, lic: str = CC_BY_NC) -> Dataset:
    return Dataset(name, f"alpaca_eval/{path}", *_ALPACA_EVAL, upstream, sha, lic, records, desc)


DATASETS: tuple[Dataset, ...] = (
    _si("seed_tasks", "seed_tasks.jsonl",
        "7779004fa198fdf27cf70a159363879d8a26c53329e11b436af17b3941875f48", 175,
        "The 175 human-written Self-Instruct seed tasks (26 classification) that start Alpaca's generation.",
        upstream="data/seed_tasks.jsonl"),
    Dataset("alpaca_prompt", "stanford_alpaca/prompt.txt", *_ALPACA, "prompt.txt",
            "c042d2a46d3bdc4fa4406deeed5951dc2dcd4ebf29ebf8237210c384f09b5b2d", APACHE, None,
            "Alpaca's teacher prompt: 9 requirements numbered 1,2,3,2,3,4,5,6,7, no trailing newline."),
    Dataset("alpaca_prompt_pr24", "stanford_alpaca/prompt_pr24_numbering_fix.txt", *_ALPACA_PR24, "prompt.txt",
            "0cee26e049a4a43267006cb56cfd8c70b51607540d5bbaac30ebe1011ac05a08", APACHE, None,
            "The same prompt with the numbering fixed (Alpaca PR #24, never merged)."),
    Dataset("alpaca_data", "stanford_alpaca/alpaca_data.json.gz", *_ALPACA, "alpaca_data.json",
            "2eddafc6b977608d778aaab8dfc7e50e547b3af9826dfb9e909d9fc362e4a419", CC_BY_NC, 52002,
            "The 52,002 Alpaca training examples generated with text-davinci-003.",
            mirror_sha256="6b89404577eca1fbeb5db02de24d4f617f7c90c0dd78822e73de02684b046eb8"),
    _si("user_oriented_instructions", "human_eval/user_oriented_instructions.jsonl",
        "81d60a117db495cecedecd9193504fd07c5b5a42f6699ef6b0f9da10fc22f42e", 252,
        "Self-Instruct's 252 expert-written user-oriented instructions (Alpaca's first human evaluation)."),
    _predictions("davinci", "29ebefae64941a53d296021d191462e7f1ec87c3112d5bf4971d62ba61b30730"),
    _predictions("davinci-self-instruct", "d454d989d16567ba9ed2898940beb3bfced2887b8014a5b6f5fa7955e499a4b8"),
    _predictions("davinci-self-instruct-and-superni-ft",
                 "6aed46012920f7eb2f2779c329e5e06c57d59ed66235a40c155bcc62952ec89f"),
    _predictions("davinci-superni-ft", "e38f88de443b3a567ffffb80312dba796fd3ccf227b63842e218a4517678e87d"),
    _predictions("davinci-t0-ft", "346c6f6f24e126a1ca8c97593275558f4e83c0b36ed9125e4b7c2c9ac22200b2"),
    _predictions("text-davinci-001", "0e5486cb74260ed10dfc43d6c26343c4bb98251401003b46ae3fca498305a94d"),
    _predictions("text-davinci-002", "30e448059bb2c3aaf2926c93f97d967aa7523acdcaec08b2bbd36ea6b4e1e9f7"),
    _predictions("text-davinci-003", "9fbf9229c917f2c832399e4d474f0ed1a4f367fae61e5eee814f3db687e0d584"),
    _ae("alpaca_eval/alpaca-7b", "results/alpaca-7b/model_outputs.json", "results/alpaca-7b/model_outputs.json",
        "21048628f20187affc7d9c9e756d9618e08c4991fc8a48184612eb484565c5db", 805,
        "Alpaca-7B's outputs on the 805 AlpacaEval instructions."),
    _ae("alpaca_eval/text-davinci-003", "results/text_davinci_003/model_outputs.json",
        "results/text_davinci_003/model_outputs.json",
        "af0bc112f08c88bf589bbfe6fc1036806d0a0f6fec9c4d5a4db860f5afe73b4b", 805,
        "An older, shorter set of text-davinci-003 outputs on the same 805 instructions (not the judge's reference)."),
    _ae("alpaca_eval/gpt4_annotations", "results/alpaca-7b/alpaca_eval_gpt4/annotations.json",
        "results/alpaca-7b/alpaca_eval_gpt4/annotations.json",
        "d44ea50f1a81f6ae6a95e8ac1dd08b7eca82cc0a9058a2923b1c70cec1e9eaa5", 805,
        "GPT-4's pairwise verdicts: text-davinci-003 reference (output_1) vs Alpaca-7B (output_2)."),
    _ae("alpaca_eval/leaderboard", "alpaca_eval_gpt4_leaderboard.csv",
        "src/alpaca_eval/leaderboards/data_AlpacaEval/alpaca_eval_gpt4_leaderboard.csv",
        "9a86bb8cd16967ab94796ca6e52b63a14ceb59c953194ec064edfe690fb82ed6", 102,
        "The AlpacaEval-1 leaderboard (alpaca-7b: 26.46% win rate).", APACHE),
    _ae("alpaca_eval/evaluators", "evaluators_leaderboard.csv",
        "src/alpaca_eval/leaderboards/evaluators/evaluators_leaderboard.csv",
        "db679d719e2a8705333ea2adbc184e77958226de58fe3146a815763e18ec5a3d", 32,
        "Agreement of automatic judges with human annotations, with a human-human row.", APACHE),
    Dataset("belle_seed_tasks", "belle/zh_seed_tasks.json", *_BELLE, "data/1.5M/zh_seed_tasks.json",
            "a4a599db63cd15823cfccc4b198f87585fa53ec5348148de023f674218175e34", ODC_BY, 175,
            "BELLE's 175 Chinese seed tasks (JSON Lines despite the .json name)."),
    Dataset("belle_prompt", "belle/prompt_cn.txt", *_BELLE, "data/1.5M/prompt_cn.txt",
            "d13902aa3d43b47414e473231a0d137cc5c884c449a686528037db53790751ec", APACHE, None,
            "BELLE's Chinese teacher prompt: one line with literal \\n escapes, asks for 10 tasks."),
    Dataset("license/cc-by-nc-4.0", "LICENSES/stanford_alpaca_DATA_LICENSE_CC-BY-NC-4.0.txt", *_ALPACA,
            "DATA_LICENSE", "3711f963c05d0be80d53e5923308a6dee31b203da23435c9cfb7c7b6e4dd5e19", CC_BY_NC, None,
            "The license of the Alpaca data, AlpacaEval outputs and any model trained on them."),
    Dataset("license/apache-2.0", "LICENSES/self-instruct_LICENSE_Apache-2.0.txt", *_SELF_INSTRUCT, "LICENSE",
            "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4", APACHE, None,
            "Self-Instruct's license, which covers its seed tasks and human-evaluation files."),
    Dataset("license/odc-by", "LICENSES/BELLE_DATA_LICENSE_ODC-By.txt", *_BELLE, "DATA_LICENSE",
            "d0661a893a508739e49514a80f7629633846f1f4ac889fcf638c94a15ff92e9c", ODC_BY, None,
            "BELLE's data license."),
)

_BY_NAME = {d.name: d for d in DATASETS}


def get_dataset(name: str) -> Dataset:
    """Return the registry entry called ``name``; an unknown name lists the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def catalog() -> list[str]:
    """One aligned line per data set: name, size in records, license, canonical URL."""
    lines = []
    for d in DATASETS:
        records = "text" if d.records is None else f"{d.records} records"
        lines.append(f"{d.name:<50} {records:<14} {d.license:<12} {d.url}")
    return lines


def mirror_dir() -> Path | None:
    """The configured mirror directory, or None when ``$ALPACA_LESSONS_DATA`` is unset."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache: ``$ALPACA_LESSONS_CACHE``, else ``$XDG_CACHE_HOME/alpaca-lessons``."""
    if value := os.environ.get(CACHE_ENV):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "alpaca-lessons"


_verified: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The sha256 of a file, remembered per (path, size, mtime) so a verified file is hashed once."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _verified[key] = digest.hexdigest()
    return _verified[key]


def _check(path: Path, expected: str, dataset: Dataset) -> Path:
    actual = file_sha256(path)
    if actual != expected:
        raise DataError(
            f"{path}: sha256 {actual} does not match the registry's {expected} for data set "
            f"{dataset.name!r}; the file was not used. Replace it with the upstream file ({dataset.url})."
        )
    return path


def locate(name: str | Dataset, *, download: bool = True, timeout: float = 60.0) -> Path:
    """Return a verified local path for a data set: mirror, then cache, then download into the cache.

    Raises DataError naming the data set and its URL when it cannot be had, and when a file's
    checksum does not match (the bad file is never returned).
    """
    dataset = name if isinstance(name, Dataset) else get_dataset(name)
    mirror = mirror_dir()
    if mirror is not None:
        path = mirror / dataset.mirror_path
        if path.is_file():
            return _check(path, dataset.mirror_sha256 or dataset.sha256, dataset)
    cached = cache_dir() / dataset.filename
    if cached.is_file():
        return _check(cached, dataset.sha256, dataset)
    if not download:
        raise DataError(f"data set {dataset.name!r} is neither in the mirror nor in the cache ({cached})")
    return _download(dataset, cached, timeout)


def _download(dataset: Dataset, target: Path, timeout: float) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as tmp:
        part = Path(tmp.name)
        try:
            with urllib.request.urlopen(dataset.url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    tmp.write(block)
        except (urllib.error.URLError, OSError) as exc:
            part.unlink(missing_ok=True)
            where = f"${MIRROR_ENV}={mirror_dir()}" if mirror_dir() else f"${MIRROR_ENV} is not set"
            raise DataError(
                f"cannot fetch data set {dataset.name!r} from {dataset.url} ({exc}). Offline? Point "
                f"{MIRROR_ENV} at a directory laid out like the course's shared/data, holding "
                f"{dataset.mirror_path} ({where})."
            ) from exc
    try:
        _check(part, dataset.sha256, dataset)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)
    return target


def gunzip(raw: bytes, where: str) -> bytes:
    """The uncompressed bytes of a gzip file; a truncated or damaged stream is a DataError naming ``where``."""
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(f"{where}: truncated gzip file (it ends before the end of its data)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{where}: not a valid gzip file ({exc})") from None


def open_bytes(name: str | Dataset) -> bytes:
    """The verified, uncompressed bytes of a data set (a ``.gz`` mirror copy is decompressed)."""
    path = locate(name)
    raw = path.read_bytes()
    return gunzip(raw, str(path)) if path.suffix == ".gz" else raw


def verify_all(names: list[str] | None = None, *, download: bool = False) -> dict[str, str]:
    """Check each data set; return name -> 'ok <path>' or the error, never raising."""
    report: dict[str, str] = {}
    for dataset in [get_dataset(n) for n in names] if names else DATASETS:
        try:
            report[dataset.name] = f"ok {locate(dataset, download=download)}"
        except DataError as exc:
            report[dataset.name] = f"error: {exc}"
    return report
