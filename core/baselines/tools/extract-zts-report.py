#!/usr/bin/env python3
# Transcribes the `known` and `maybe` tables of upstream's zts-report.py.in (openzfs/zfs) into the
# JSON data files beside this folder (core/baselines/zts-<major.minor>.json), so the baselines are data
# we can diff and review, not code. Run from a clone of openzfs/zfs:
#
#   python3 extract-zts-report.py <openzfs clone> <tag> > core/baselines/zts-<series>.json
#
# It evaluates only the module-level part of the file (the reason strings and the two dicts, which
# branch on sys.platform) once per platform and records on which platforms each entry applies.
import json
import subprocess
import sys

repo, tag = sys.argv[1], sys.argv[2]
path = 'tests/test-runner/bin/zts-report.py.in'
src = subprocess.check_output(['git', '-C', repo, 'show', f'{tag}:{path}'], text=True)
commit = subprocess.check_output(['git', '-C', repo, 'rev-list', '-n', '1', tag], text=True).strip()
head = src.split('\ndef ', 1)[0]


def tables(platform):
    fake_sys = type(sys)('sys')
    fake_sys.platform = platform
    fake_sys.argv = ['zts-report.py']
    scope = {'__name__': 'zts_report_tables'}
    code = head.replace('import sys\n', '')
    scope['sys'] = fake_sys
    exec(compile(code, f'{tag}:{path}', 'exec'), scope)
    return scope['known'], scope['maybe']


by_platform = {p: tables(p) for p in ('linux', 'freebsd')}
entries = {}
for platform, (known, maybe) in by_platform.items():
    for list_name, table in (('known', known), ('maybe', maybe)):
        for test, (expect, why) in table.items():
            key = (test, list_name, expect, why if isinstance(why, int) else str(why))
            entry = entries.setdefault(key, {'test': test, 'list': list_name, 'expect': expect, 'platforms': []})
            if isinstance(why, int):
                entry['issue'] = why
            else:
                entry['reason'] = why
            entry['platforms'].append(platform)

series = '.'.join(tag.removeprefix('zfs-').split('.')[:2])
out = {
    'series': series,
    'origin': {
        'repository': 'openzfs/zfs',
        'tag': tag,
        'commit': commit,
        'path': path,
        'extractedBy': 'core/baselines/tools/extract-zts-report.py',
    },
    'entries': sorted(entries.values(), key=lambda e: (e['list'], e['test'], e['platforms'])),
}
json.dump(out, sys.stdout, indent=1)
sys.stdout.write('\n')
