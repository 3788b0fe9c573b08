"""The report half of scripts/bench-compare: medians with min–max, ratios, targets, SVG plots, Markdown."""

import json
import math
import os
import re
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LABELS = {
    "cpu": "server CPU-s per 1M {unit}",
    "rate": "{unit}/s",
    "p99": "p99 latency (ms)",
    "p50": "p50 latency (ms)",
    "loss": "loss (%)",
    "held": "connections held",
    "rss_conn": "server RSS per connection (KiB)",
    "rss_growth": "server RSS growth (MiB)",
    "all_in": "seconds until all are in",
}


def metric(data, key):
    """One figure from one bench JSON; None when the run did not produce it."""
    if "scenario" not in data:
        return None
    server = data.get("server") or {}
    latency = data.get("latency_ns") or {}
    if key == "cpu":
        return server.get("cpu_s_per_1m")
    if key == "rate":
        return data["deliveries_per_s"] if data["delivered"] else None
    if key in ("p99", "p50"):
        return latency[key] / 1e6 if latency.get("count") else None
    if key == "loss":
        return 100 * data["loss_ratio"] if data["expected"] else None
    if key == "held":
        return data["held"]
    if key == "rss_conn":
        value = server.get("rss_bytes_per_connection")
        return None if value is None else value / 1024
    if key == "all_in":
        return data.get("all_in_s")
    if key == "rss_growth":
        if not server:
            return None
        return (server["peak_rss_kib"] - server["rss_before_kib"]) / 1024
    raise KeyError(key)


def values(entry, key):
    return [v for v in (metric(run, key) for run in entry["runs"]) if v is not None]


def median(entry, key):
    found = values(entry, key)
    return statistics.median(found) if found else None


def number(value):
    if value is None:
        return "–"
    if value == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value))))) if abs(value) < 1000 else 0
    return f"{value:,.{digits}f}"


def cell(entry, key):
    found = values(entry, key)
    if not found:
        return "–"
    text = number(statistics.median(found))
    if len(found) > 1 and min(found) != max(found):
        text += f" ({number(min(found))}–{number(max(found))})"
    return text


def busy_seconds(run):
    """CPU-seconds the server and the generator used together in one run; None when not measured."""
    server = (run.get("server") or {}).get("cpu_s")
    generator = run.get("generator") or {}
    if server is None or generator.get("cpu_s") is None:
        return None
    return server + generator["cpu_s"]


def starved_runs(entry):
    """Runs (numbered from 1) in which the server and the generator together used under a quarter of the
    CPU of the busiest run of the same case and server. Either the machine did not run them (a shared host)
    or one side stopped waiting for the other; the report names them so that their figures are not read as
    the server's steady behaviour."""
    busy = [busy_seconds(run) for run in entry["runs"]]
    most = max((b for b in busy if b is not None), default=None)
    if not most:
        return []
    return [i + 1 for i, b in enumerate(busy) if b is not None and b < most / 4]


def by_server(results, case_id):
    return {e["server"].name: e for e in results if e["case"]["id"] == case_id and not e["skipped"]}


# What each case asks and how to read its figures, by case id (a sweep case shares its explanation).
READING = {
    "broadcast-10": (
        "Ten chat clients each keep 32 lines in flight, so the server always has work: the figure to read "
        "is the server's CPU time per million deliveries (one line reaching one other client), which says "
        "what the relay itself costs. Latency here is mostly time spent queued behind the window."),
    "broadcast-100": (
        "The same with 100 clients: every line goes to 99 others, so the fan-out dominates. A server that "
        "formats a line once and writes it to many sockets with few system calls gets cheaper per delivery "
        "as the room grows; one that copies or locks per delivery does not."),
    "broadcast-100-w1": (
        "The same room, but each sender waits for its line to reach the next client before it sends the "
        "next one: input arrives a line at a time instead of in batches, so the per-line work (one read, "
        "framing, formatting, a fan-out of one message) weighs more than the per-byte work."),
    "broadcast-100-2000": (
        "100 clients offering 2,000 lines/s in total (198,000 deliveries/s): a busy room that the server can "
        "keep up with, so the latency columns show what a user waits, not a queue."),
    "broadcast-100-500": (
        "A quieter room, 500 lines/s: the latency a user sees when the server is mostly idle, where "
        "wake-ups and scheduling matter more than throughput."),
    "stuck": (
        "One client connects and never reads while ten others chat at 1,000 lines/s. A server that queues "
        "without bound for the stuck one grows its memory; one that blocks on it stalls everyone. The "
        "columns show whether the ten still got every line, and how much the server's memory grew."),
    "idle": (
        "Connections that join and say nothing: what one costs the server in resident memory, measured "
        "from /proc before and after. This is what decides how many members one machine can hold."),
    "join-storm": (
        "Clients that all connect at once, as after a server restart or a class told to join: the time "
        "from the first connection attempt until every client is in (a chat server's welcome has arrived, "
        "a broker has confirmed the subscription). A chat server that announces every join to every member "
        "does work that grows with the square of the room here."),
    "echo-100": (
        "100 clients each doing one round trip at a time: the cost of the smallest request-reply, where "
        "per-read overhead (wake-ups, readiness re-arming) dominates. dschat's async session holds no read "
        "buffer while idle: it waits for readiness (`async_wait`), which Asio 1.22's epoll reactor re-arms "
        "with one `epoll_ctl` per wait, and then reads into the loop's shared buffer. Asio's io_uring backend "
        "(`ASIO_HAS_IO_URING` with `ASIO_DISABLE_EPOLL`, liburing 2.3) was measured against it and cost "
        "about 15 % more CPU per round trip (14.7–15.9 against 12.9–13.3 CPU-s per 1M, interleaved, on a "
        "busy machine), so it is not used. The next lever: a pending read into a small per-session buffer, "
        "which Asio keeps registered without re-arming, at the price of those bytes on every idle "
        "connection."),
    "sweep": (
        "Part of the series in the plots below: the same flat-out broadcast at another room size."),
}


GENERATOR_BUSY = re.compile(r"^(.*): the generator used (\d+) % of one core: it may be the bottleneck, not the server$")


def merged_generator_notes(notes):
    """One note per server for the runs whose generator was near a full core, instead of one per run."""
    busy = {}
    for note in notes:
        match = GENERATOR_BUSY.match(note)
        if match:
            busy.setdefault(match.group(1), []).append(int(match.group(2)))
    merged, said = [], set()
    for note in notes:
        match = GENERATOR_BUSY.match(note)
        if not match:
            merged.append(note)
            continue
        name = match.group(1)
        if name in said:
            continue
        said.add(name)
        shares = busy[name]
        share = f"{min(shares)}–{max(shares)} %" if min(shares) != max(shares) else f"{shares[0]} %"
        runs = f"{len(shares)} run{'s' if len(shares) != 1 else ''}"
        merged.append(f"{name}: the load generator used {share} of one core ({runs}), so it, not the "
                      "server, may have set the pace")
    return merged


def reading(case):
    return READING.get("sweep" if case.get("sweep") else case["id"], "")


def ratio_lines(case, rows):
    key = case["primary"]
    lines = []
    for mode in ("dschat async", "dschat threaded"):
        mine = median(rows[mode], key) if mode in rows else None
        if not mine:
            continue
        parts = []
        for name, entry in rows.items():
            theirs = median(entry, key)
            peer = not name.startswith("dschat") or name.endswith("(baseline)")  # bench-compare --baseline
            if peer and theirs:
                parts.append(f"{mine / theirs:.3g}× {name}")
        if parts:
            unit = "round trips" if case["service"] == "echo" else "deliveries"
            lines.append(f"- {mode} ÷ peer ({LABELS[key].split(' (')[0].format(unit=unit)}): "
                         + ", ".join(parts))
    return lines


def svg_plot(path, title, series, y_label, log_y):
    """A small line chart, clients (log scale) against y, one polyline per server."""
    width, height, left, right, top, bottom = 640, 360, 80, 170, 30, 50
    points = [(x, y) for line in series.values() for x, y in line if y and y > 0]
    if len(points) < 2:
        return False
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    fx = lambda x: math.log10(x)  # noqa: E731
    fy = (lambda y: math.log10(y)) if log_y else (lambda y: y)  # noqa: E731
    x0, x1 = fx(min(xs)), fx(max(xs))
    y0, y1 = (fy(min(ys)), fy(max(ys))) if log_y else (0.0, max(ys))
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    px = lambda x: left + (fx(x) - x0) / (x1 - x0) * (width - left - right)  # noqa: E731
    py = lambda y: height - bottom - (fy(y) - y0) / (y1 - y0) * (height - top - bottom)  # noqa: E731
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
           'stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
           f'<text x="{(left + width - right) / 2}" y="{height - 10}" text-anchor="middle">clients</text>',
           f'<text x="15" y="{(top + height - bottom) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 15 {(top + height - bottom) / 2})">{y_label}</text>']
    for x in sorted(set(xs)):
        out.append(f'<text x="{px(x):.1f}" y="{height - bottom + 16}" text-anchor="middle">{x}</text>')
    for i in range(5):
        value = (10 ** (y0 + (y1 - y0) * i / 4)) if log_y else y0 + (y1 - y0) * i / 4
        y = py(value)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{number(value)}</text>')
    for i, (name, line) in enumerate(series.items()):
        color = colors[i % len(colors)]
        kept = [(x, y) for x, y in sorted(line) if y and y > 0]
        if not kept:
            continue
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in kept)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in kept:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        ly = top + 10 + 18 * i
        out.append(f'<line x1="{width - right + 10}" y1="{ly}" x2="{width - right + 30}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{width - right + 35}" y="{ly + 4}">{name}</text>')
    out.append("</svg>\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    return True


def plots(out_dir, results):
    """deliveries/s and p99 against clients from the flat-out broadcast cases."""
    series_rate, series_p99 = {}, {}
    for entry in results:
        case = entry["case"]
        if entry["skipped"] or not (case["id"] in ("broadcast-10", "broadcast-100") or case.get("sweep")):
            continue
        clients = int(case["args"][case["args"].index("--clients") + 1])
        series_rate.setdefault(entry["server"].name, []).append((clients, median(entry, "rate")))
        series_p99.setdefault(entry["server"].name, []).append((clients, median(entry, "p99")))
    made = []
    if svg_plot(os.path.join(out_dir, "benchmarks-deliveries.svg"), "broadcast, all clients sending flat out",
                series_rate, "deliveries/s", False):
        made.append(("deliveries/s", "benchmarks-deliveries.svg"))
    if svg_plot(os.path.join(out_dir, "benchmarks-p99.svg"), "broadcast, all clients sending flat out",
                series_p99, "p99 latency (ms)", True):
        made.append(("p99 latency", "benchmarks-p99.svg"))
    return made


def command_text(argv, dschat):
    def show(arg):
        if arg == dschat:
            return "dschat"
        if arg == sys.executable:
            return "python3"
        return os.path.relpath(arg, ROOT) if os.path.isabs(arg) else arg

    return " ".join(show(a) for a in argv)


def build_type(dschat):
    """The Meson buildtype of the folder dschat was built in, from its introspection data."""
    builddir = os.path.dirname(os.path.dirname(os.path.join(ROOT, dschat)))  # a saved path is relative to ROOT
    options = os.path.join(builddir, "meson-info", "intro-buildoptions.json")
    try:
        with open(options, encoding="utf-8") as f:
            return next(o["value"] for o in json.load(f) if o["name"] == "buildtype")
    except (OSError, ValueError, StopIteration):
        return "unknown"


def write_report(path, info, results, runs, command, pin, dschat):
    lines = ["# Benchmarks", "",
             f"Produced by `{command}` — rerun it to refresh this page. Every figure is the median of "
             f"{runs} "
             f"run{'s' if runs != 1 else ''} with the minimum–maximum in brackets; each run starts a fresh "
             "server process. The load "
             "generator is `dschat bench` for every server, 64-byte lines; `--rate 0` on dschat's servers "
             "so that the flood limiter is not what is measured. Server CPU-seconds come from "
             "/proc/PID/stat over the measured window, memory from /proc/PID/status.", "",
             "*Flat out* means each sender keeps up to 32 lines in flight (a line counts as arrived when "
             "the next client got it), so the server never idles; latencies in those cases are mostly the "
             "time lines wait in that window. The cases with an offered rate are the ones that show "
             "latency.", "",
             "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in info.items() if key != "dschat build"]
    built = info.get("dschat build") or f"{build_type(dschat)} build"
    lines.append(f"- dschat binary: {os.path.relpath(os.path.join(ROOT, dschat), ROOT)} ({built})")
    lines += ["", "A busy machine (see the load average) makes latencies and rates noisy; CPU-seconds per "
              "delivery are the steadiest figure.", ""]
    if any(e["server"].name.startswith("floor") for e in results):
        lines += ["*floor* is `dschat-floor` (bench/floor/floor_server.cpp), built beside dschat and not "
                  "installed: one thread, epoll, and nothing but the system calls any server must make — it "
                  "relays each read's complete lines as they arrived (no framing, names, sanitizing, limits "
                  "or slow-client handling) or echoes what it reads, and writes everything queued for a "
                  "client once per turn of its loop. Its CPU time per delivery is what the kernel charges a "
                  "server on this machine: a target below it is out of reach for any server built on "
                  "readiness and copies.", ""]
    seen = []
    for entry in results:
        case = entry["case"]
        if case["id"] in seen:
            continue
        seen.append(case["id"])
        rows = {e["server"].name: e for e in results if e["case"]["id"] == case["id"]}
        unit = "round trips" if case["service"] == "echo" else "deliveries"
        lines += [f"## {case['title']}", ""]
        if reading(case):
            lines += [reading(case), ""]
        header = ["server"] + [LABELS[c].format(unit=unit) for c in case["columns"]]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        notes = []
        for name, entry2 in rows.items():
            if entry2["skipped"]:
                lines.append(f"| {name} | " + " | ".join(["skipped"] * len(case["columns"])) + " |")
                notes.append(f"{name}: skipped, {entry2['skipped']}")
                continue
            lines.append(f"| {name} | " + " | ".join(cell(entry2, c) for c in case["columns"]) + " |")
            starved = starved_runs(entry2)
            if starved:
                notes.append(f"{name}: run {', '.join(map(str, starved))} of {len(entry2['runs'])}: server and "
                             "generator together used under a quarter of the CPU of the busiest run (the "
                             "machine stalled them, or one side waited on the other)")
            for run in entry2["runs"]:
                problem = run.get("error")
                if problem:
                    notes.append(f"{name}: {problem}")
                notes += [f"{name}: {warning}" for warning in run.get("warnings", [])]
        lines.append("")
        lines += ratio_lines(case, by_server(results, case["id"]))
        notes = merged_generator_notes(notes)
        if notes:
            lines += ["", "Notes: " + "; ".join(dict.fromkeys(notes)) + "."]
        lines.append("")
    made = plots(os.path.dirname(path), results)
    if made:
        lines += ["## Against the number of clients", ""]
        lines += [f"![{what}]({file})" for what, file in made]
        lines.append("")
    # The hand-written reading of the gaps (what was profiled, what to try next) travels with the figures,
    # and so do the WebSocket figures of scripts/bench-ws (a run of their own, TCP and WebSocket side by side).
    for name in ("benchmarks-analysis.md", "benchmarks-websocket.md"):
        written = os.path.join(ROOT, "docs", name)
        if os.path.exists(written):
            with open(written, encoding="utf-8") as f:
                lines += [f.read().rstrip("\n"), ""]
    lines += ["## Exact commands", "",
              "Servers (PORT is a free loopback port; dschat's print theirs with `--port 0`):", "", "```"]
    shown = []
    for entry in results:
        text = command_text(entry["server"].argv, dschat).replace("{port}", "PORT")
        if text not in shown:
            shown.append(text)
            lines.append(("taskset -c 1 " if pin else "") + text)
    lines += ["```", "", "Load, one line per case (PID is the server's):", "", "```"]
    for case_id in seen:
        case = next(e["case"] for e in results if e["case"]["id"] == case_id)
        lines.append(("taskset -c 0 " if pin else "") + "dschat bench " + " ".join(case["args"])
                     + " --port PORT --server-pid PID --json FILE")
    lines += ["```", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
