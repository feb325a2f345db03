# Copyright (c) vfio.migration contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this plugin_utils is **PRIVATE** to the collection. It can have breaking changes at any time.

"""Presentation helpers for the preflight role: turn engine verdicts into text a person reads.

Nothing here decides compatibility or placement: the verdicts come from the
``migration_check`` and ``migration_plan`` filters; this module only lays them out.
"""

from __future__ import annotations

import json
import re

from ansible_collections.vfio.migration.plugins.plugin_utils._errors import PreflightInputError
from ansible_collections.vfio.migration.plugins.plugin_utils._reasons import and_more, more as more_text

COLUMNS = ("VM", "DEVICE", "TYPE", "VERSION", "DESTINATION", "WHY NOT")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value):
    """One table cell: never None, never a line break or a control character."""
    if value is None or value == "":
        return "-"
    if not isinstance(value, str):
        value = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return _CONTROL.sub(lambda m: "\\x%02x" % ord(m.group(0)), value)


def reason_text(reason):
    """A reason as the engine gave it (a sentence, or a record with a message) as one line."""
    if isinstance(reason, dict):
        for key in ("message", "reason", "msg", "text"):
            if isinstance(reason.get(key), str) and reason[key]:
                return _text(reason[key])
    return _text(reason)


def _device_index(source_vfio, source):
    if not isinstance(source_vfio, dict):
        raise PreflightInputError("facts of source host %s: expected a dict (the vfio facts), got %s"
                                  % (source, type(source_vfio).__name__))
    devices = source_vfio.get("devices", [])
    if not isinstance(devices, list):
        raise PreflightInputError("facts of source host %s: field 'devices' must be a list" % source)
    return dict((d.get("id"), d) for d in devices if isinstance(d, dict))


def _check_result(result, where):
    """(device ids the check was about, [(unplaced device id, entry, [reason lines])])."""
    if not isinstance(result, dict):
        raise PreflightInputError("%s: expected a migration_check result (dict), got %s"
                                  % (where, type(result).__name__))
    placements = result.get("placements") or []
    unplaced = result.get("unplaced") or []
    if not isinstance(placements, list) or not isinstance(unplaced, list):
        raise PreflightInputError("%s: fields 'placements' and 'unplaced' must be lists" % where)
    about = [p.get("source") for p in placements if isinstance(p, dict)]
    out = []
    for entry in unplaced:
        if not isinstance(entry, dict) or "source" not in entry:
            raise PreflightInputError("%s: every 'unplaced' entry needs a 'source' device id" % where)
        reasons = entry.get("reasons") or []
        if not isinstance(reasons, list):
            reasons = [reasons]
        about.append(entry["source"])
        out.append((entry["source"], entry, summarize_reasons(reasons)))
    return about, out


def summarize_reasons(reasons):
    """One line per distinct first reason: the engine lists every failed rule of every candidate
    slot, in rule order, so the first reason of a candidate is the most basic one. Candidates that
    fail first on the same reason share a line; the others' count is given, not repeated."""
    per_candidate = {}
    order = []
    for reason in reasons:
        candidate = reason.get("candidate") if isinstance(reason, dict) else None
        key = candidate if candidate is not None else ("", len(order))
        if key not in per_candidate:
            per_candidate[key] = []
            order.append(key)
        per_candidate[key].append(reason_text(reason))
    lines = {}
    for key in order:
        first, more = per_candidate[key][0], len(per_candidate[key]) - 1
        line = lines.setdefault(first, {"candidates": [], "more": set()})
        if not isinstance(key, tuple):
            line["candidates"].append(_text(key))
        line["more"].add(more)
    out = []
    for first, line in lines.items():
        text = first
        if line["candidates"]:
            text = "%s: %s" % (", ".join(line["candidates"]), first)
        more = max(line["more"])
        if more:
            text += " (%s)" % more_text(more, up_to=len(line["more"]) > 1)
        out.append(text)
    return out or ["no reason given"]


def layout(header, rows):
    """Render ``rows`` (tuples of COLUMNS cells) under ``header`` as aligned plain text."""
    widths = [len(c) for c in COLUMNS]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    lines = [header] if header else []
    for row in [COLUMNS] + list(rows):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def failure_table(checks, source_vfio, source="source"):
    """Explain why no candidate destination takes every considered device of one source host.

    ``checks`` maps each candidate destination host to the ``migration_check`` result for
    this source (in the order the destinations were tried); an empty mapping means there was
    no candidate. Returns the table as text: a header line, the column titles, then one line
    per (device, destination, reason); the device cells are written once per device and the
    destination once per destination.
    """
    if not isinstance(checks, dict):
        raise PreflightInputError("checks for source host %s: expected a dict destination -> "
                                  "migration_check result, got %s" % (source, type(checks).__name__))
    devices = _device_index(source_vfio, source)

    considered = set()
    per_device = {}
    for destination, result in checks.items():
        about, unplaced = _check_result(result, "check %s -> %s" % (source, destination))
        considered.update(about)
        for device_id, entry, reasons in unplaced:
            per_device.setdefault(device_id, {"entry": entry, "refusals": []})
            per_device[device_id]["refusals"].append((destination, reasons))
    if not checks:
        considered = set(i for i, d in devices.items() if d.get("in_use"))
        per_device = dict((i, {"entry": {}, "refusals": []}) for i in considered)

    def vm_of(device_id):
        device, entry = devices.get(device_id, {}), per_device[device_id]["entry"]
        in_use = device.get("in_use") if isinstance(device.get("in_use"), dict) else {}
        return entry.get("vm") or in_use.get("vm")

    rows = []
    for device_id in sorted(per_device, key=lambda i: (str(vm_of(i) or ""), str(i))):
        device, entry = devices.get(device_id, {}), per_device[device_id]["entry"]
        cells = [_text(vm_of(device_id)), _text(device_id), _text(entry.get("type") or device.get("type")),
                 _text(device.get("software_version"))]
        if not checks:
            rows.append(tuple(cells + ["-", "no candidate destination"]))
            continue
        for destination, reasons in per_device[device_id]["refusals"]:
            destination = _text(destination)
            for reason in reasons:
                rows.append(tuple(cells + [destination, reason]))
                cells, destination = [""] * 4, ""

    if checks:
        header = ("%s: no candidate destination can take all %d device(s) at once (tried: %s)"
                  % (_text(source), len(considered), ", ".join(_text(d) for d in checks)))
    else:
        header = "%s: %d device(s) in use and no candidate destination" % (_text(source), len(considered))
    return layout(header, rows)


def _hosts_text(hosts, count):
    return and_more([_text(h) for h in hosts], limit=None, total=count if isinstance(count, int) else None) or "-"


def _moves_by_host(plan):
    moves = {}
    for wave in plan["waves"]:
        for move in wave.get("moves") or []:
            moves.setdefault(move.get("source"), []).append(move)
    return moves


def _wave_lines(plan, waves):
    """One line per source host, in wave order: its wave, its VMs and where each goes."""
    moves_by_host = _moves_by_host(plan)
    lines = []
    for number, hosts in enumerate(waves, 1):
        for host in hosts:
            moves = moves_by_host.get(host, [])
            lines.append("wave %d: %s, %d VM(s): %s" % (
                number, _text(host), len(moves),
                ", ".join("%s -> %s" % (_text(m.get("vm")), _text(m.get("destination"))) for m in moves) or "-"))
    if not waves:
        lines.append("no wave: no source host can be evacuated")
    return lines


def _first_reasons(reasons):
    """Per destination host (or ``("+N more",)`` for the hosts not named), its first reason and how
    many more it gave."""
    first, extra = {}, {}
    for reason in reasons:
        hosts = reason.get("hosts") or []
        for dest in hosts:
            if dest not in first:
                first[dest], extra[dest] = reason_text(reason), 0
            else:
                extra[dest] += 1
        if isinstance(reason.get("host_count"), int) and reason["host_count"] > len(hosts):
            key = (reason["host_count"] - len(hosts),)   # the destinations not named
            first.setdefault(key, reason_text(reason))
            extra.setdefault(key, 0)
    return first, extra


def _device_rows(cells, reasons):
    """The rows of one blocked device: destination hosts that give the same first reason share one."""
    first, extra = _first_reasons(reasons)
    grouped = {}
    for dest, text in first.items():
        grouped.setdefault(text, []).append(dest)
    if not grouped:
        return [tuple(cells + ["-", "no candidate destination"])]
    rows = []
    for text, dests in grouped.items():
        names = [_text(d) for d in dests if not isinstance(d, tuple)]
        unnamed = sum(d[0] for d in dests if isinstance(d, tuple))
        more = max(extra[d] for d in dests)
        rows.append(tuple(cells + [and_more(names, limit=None, total=len(names) + unnamed),
                                   text + (" (%s)" % more_text(more) if more else "")]))
        cells = [""] * 4
    return rows


def _blocked_table(host, entries, facts):
    """The table of one source host that cannot be evacuated (its blocked VMs are ``entries``)."""
    devices = _device_index(facts or {"devices": []}, host)
    rows = []
    for entry in sorted(entries, key=lambda b: str(b.get("vm") or "")):
        reasons_by_device = {}
        for reason in entry.get("reasons") or []:
            if isinstance(reason, dict):
                reasons_by_device.setdefault(reason.get("device"), []).append(reason)
        for device_id in entry.get("devices") or sorted(reasons_by_device, key=str):
            device = devices.get(device_id, {})
            cells = [_text(entry.get("vm")), _text(device_id), _text(device.get("type")),
                     _text(device.get("software_version"))]
            rows.extend(_device_rows(cells, reasons_by_device.get(device_id, [])))
    header = "blocked: %s, %d VM(s) cannot move" % (_text(host), len(entries))
    if not entries:
        header = "blocked: %s, no vfio facts: nothing can be planned" % _text(host)
    return layout(header, rows) if rows else header


def plan_text(plan, facts_by_host=None, waves=None, blocked_hosts=None):
    """Lay out a ``migration_plan`` result: one line per wave, then, for each host that cannot
    be evacuated, a table of its VMs that cannot move (VM, device, type, version, destination
    hosts, why not; candidate destinations that refuse a device for the same first reason share
    a line).

    ``waves`` (list of host lists) and ``blocked_hosts`` override the plan's own grouping, for a
    caller that regroups hosts (the preflight role keeps partly blocked hosts out of the waves).
    """
    if not isinstance(plan, dict) or not isinstance(plan.get("waves"), list):
        raise PreflightInputError("expected a migration_plan result (a dict with 'waves'), got %s"
                                  % type(plan).__name__)
    facts_by_host = facts_by_host or {}
    if not isinstance(facts_by_host, dict):
        raise PreflightInputError("facts_by_host must be a dict host -> vfio facts")
    if waves is None:
        waves = [w.get("hosts") or [] for w in plan["waves"]]
    blocked = plan.get("blocked") or []
    if blocked_hosts is None:
        blocked_hosts = sorted(set(b.get("host") for b in blocked))
    lines = _wave_lines(plan, waves)
    for host in blocked_hosts:
        lines.append(_blocked_table(host, [b for b in blocked if b.get("host") == host], facts_by_host.get(host)))
    return "\n".join(lines)
