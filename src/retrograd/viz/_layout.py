"""A layered drawing of a DAG (Sugiyama's method), in pure Python, for SVG and PNG.

1. Layers: each box goes one layer below the lowest box that points to it (longest path
   from the roots, by a topological walk), so every edge points downwards. In small
   graphs a leaf moves lower where that removes crossings this layering forces.
2. Edges that skip layers get invisible waypoints, one per skipped layer, so they bend
   around the boxes in between. Past a budget of waypoints (deep graphs whose every layer
   feeds one leaf would need quadratically many) an edge goes down a lane of its own to
   the right of the picture instead.
3. Crossings: boxes in a layer are reordered by the mean position of their neighbours in
   the layer above, then below (barycenters), sweeping a few times; the order with the
   fewest crossings wins.
4. Coordinates: boxes move towards their neighbours' mean x, keeping their order and a gap.
Everything is iterative; the cost is about linear in boxes plus waypoints per sweep.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque

__all__ = ["Layout", "count_crossings", "layer_of", "layout"]

_MAX_WAYPOINT_SPAN = 40
_WAYPOINT_BUDGET = 4000
_LANE_GAP = 8.0
_SWEEPS = 8
_GAP_X = 28.0
_GAP_Y = 46.0
_MARGIN = 16.0
_SINK_SEARCH_LIMIT = 30  # boxes; above it the longest-path layering is kept as it is
_SINK_TRIALS = 40  # layerings tried at most (each costs one crossing-reduction run)


@dataclasses.dataclass
class Layout:
    positions: dict[int, tuple[float, float]]  # box key -> centre (x, y)
    sizes: dict[int, tuple[float, float]]
    routes: list[tuple[int, int, list[tuple[float, float]]]]  # (source, target, points)
    width: float
    height: float
    layers: list[list[int]]


def layer_of(keys: list[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    """Longest-path layering: a box lies one layer below every box that points to it."""
    incoming = {key: 0 for key in keys}
    children: dict[int, list[int]] = {key: [] for key in keys}
    for source, target in edges:
        children[source].append(target)
        incoming[target] += 1
    layer = {key: 0 for key in keys}
    queue = deque(key for key in keys if incoming[key] == 0)
    placed = 0
    while queue:
        key = queue.popleft()
        placed += 1
        for child in children[key]:
            layer[child] = max(layer[child], layer[key] + 1)
            incoming[child] -= 1
            if incoming[child] == 0:
                queue.append(child)
    if placed < len(keys):
        raise ValueError("the graph has a cycle; a layered drawing needs a DAG")
    return layer


def count_crossings(layers: list[list[int]], edges: list[tuple[int, int]]) -> int:
    """How many pairs of edges between adjacent layers cross, for this order of the layers."""
    position = {}
    layer_index = {}
    for index, layer in enumerate(layers):
        for slot, key in enumerate(layer):
            position[key] = slot
            layer_index[key] = index
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for source, target in edges:
        if layer_index[target] == layer_index[source] + 1:
            by_layer.setdefault(layer_index[source], []).append((position[source], position[target]))
    total = 0
    for pairs in by_layer.values():
        pairs.sort()
        seen: list[int] = []
        for _, lower in pairs:
            total += len(seen) - bisect.bisect_right(seen, lower)
            bisect.insort(seen, lower)
    return total


def layout(sizes: dict[int, tuple[float, float]], edges: list[tuple[int, int]]) -> Layout:
    """Positions for boxes of the given (width, height) and a polyline route per edge."""
    keys = list(sizes)
    layer = layer_of(keys, edges)
    if len(keys) <= _SINK_SEARCH_LIMIT:
        layer = _sink_leaves_to_uncross(keys, edges, layer, sizes)
    all_sizes = dict(sizes)
    segments, chains = _add_waypoints(layer, edges, all_sizes)
    layers = _initial_order(keys, layer, segments)
    layers = _reduce_crossings(layers, segments)
    positions, width, height = _coordinates(layers, segments, all_sizes, [c for c in chains if c])
    row_heights = [max((all_sizes[key][1] for key in row), default=0.0) for row in layers]
    routes = []
    lane = width
    for (source, target), chain in zip(edges, chains):
        start = positions[source]
        end = positions[target]
        top = (start[0], start[1] + all_sizes[source][1] / 2)
        bottom = (end[0], end[1] - all_sizes[target][1] / 2)
        if chain is None:
            lane += _LANE_GAP
            points = [top, (top[0], top[1] + _GAP_Y / 2), (lane, top[1] + _GAP_Y),
                      (lane, bottom[1] - _GAP_Y), (bottom[0], bottom[1] - _GAP_Y / 2), bottom]
        else:
            points = [top]
            for waypoint in chain:  # straight down through the waypoint's layer, clear of its boxes
                x, y = positions[waypoint]
                half = row_heights[layer[waypoint]] / 2
                points += [(x, y - half), (x, y + half)]
            points.append(bottom)
        routes.append((source, target, points))
    width = lane + _MARGIN if lane > width else width
    real_positions = {key: positions[key] for key in keys}
    return Layout(real_positions, sizes, routes, width, height, [list(row) for row in layers])


def _crossings_of(keys, layer, edges, sizes) -> int:
    """The fewest crossings the sweeps find for this layering (waypoints included)."""
    trial_layer, trial_sizes = dict(layer), dict(sizes)
    segments, _chains = _add_waypoints(trial_layer, edges, trial_sizes)
    layers = _reduce_crossings(_initial_order(keys, trial_layer, segments), segments)
    return count_crossings(layers, segments)


def _sink_leaves_to_uncross(keys, edges, layer, sizes):
    """Move boxes nothing leaves from (the leaves) lower down, one at a time, where that
    removes crossings the longest-path layering forces: in the graph of dz/dx of the seed's
    z = x*x*y, x one layer below y lets both edges into x pass around y's branch."""
    has_children = {source for source, _ in edges}
    sinks = [key for key in keys if key not in has_children]
    best = _crossings_of(keys, layer, edges, sizes)
    trials = _SINK_TRIALS
    for sink in sinks:
        deepest = max(layer.values()) + 1
        for depth in range(layer[sink] + 1, min(deepest, layer[sink] + 3) + 1):
            if best == 0 or trials == 0:
                return layer
            trials -= 1
            trial = dict(layer)
            trial[sink] = depth
            crossings = _crossings_of(keys, trial, edges, sizes)
            if crossings < best:
                best, layer = crossings, trial
                break
    return layer


def _add_waypoints(layer, edges, all_sizes):
    """Split each edge that skips layers into one-layer segments through waypoint keys;
    an edge left without (budget spent) gets chain None and is routed down a side lane."""
    segments = []
    chains = []
    next_key = max(all_sizes, default=0) + 1
    budget = _WAYPOINT_BUDGET
    for source, target in edges:
        span = layer[target] - layer[source]
        chain = []
        if span > 1 and (span > _MAX_WAYPOINT_SPAN or span - 1 > budget):
            chains.append(None)
            continue
        if span > 1:
            budget -= span - 1
            previous = source
            for step in range(1, span):
                waypoint = next_key
                next_key += 1
                layer[waypoint] = layer[source] + step
                all_sizes[waypoint] = (16.0, 2.0)  # as wide as a lane, to keep edges off the boxes
                segments.append((previous, waypoint))
                chain.append(waypoint)
                previous = waypoint
            segments.append((previous, target))
        else:
            segments.append((source, target))
        chains.append(chain)
    return segments, chains


def _initial_order(keys, layer, segments):
    """Layers filled in depth-first order from the sources: a good start for the sweeps."""
    count = max(layer.values(), default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(count)]
    children: dict[int, list[int]] = {}
    has_parent = set()
    for source, target in segments:
        children.setdefault(source, []).append(target)
        has_parent.add(target)
    seen = set()
    roots = [key for key in keys if key not in has_parent]
    stack = list(reversed(roots))
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        layers[layer[key]].append(key)
        stack.extend(reversed(children.get(key, [])))
    for key in layer:
        if key not in seen:
            layers[layer[key]].append(key)
    return layers


def _reduce_crossings(layers, segments):
    """Barycenter sweeps down and up; keep the order with the fewest crossings."""
    upper: dict[int, list[int]] = {}
    lower: dict[int, list[int]] = {}
    for source, target in segments:
        lower.setdefault(source, []).append(target)
        upper.setdefault(target, []).append(source)
    best = [list(row) for row in layers]
    best_crossings = count_crossings(best, segments)
    current = [list(row) for row in layers]
    for sweep in range(_SWEEPS):
        downwards = sweep % 2 == 0
        indices = range(1, len(current)) if downwards else range(len(current) - 2, -1, -1)
        for index in indices:
            fixed = current[index - 1] if downwards else current[index + 1]
            neighbours = upper if downwards else lower
            current[index] = _by_barycenter(current[index], fixed, neighbours)
        crossings = count_crossings(current, segments)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in current], crossings
        if best_crossings == 0:
            break
    return best


def _by_barycenter(row, fixed_row, neighbours):
    slot = {key: index for index, key in enumerate(fixed_row)}

    def barycenter(item):
        index, key = item
        placed = [slot[other] for other in neighbours.get(key, ()) if other in slot]
        return (sum(placed) / len(placed)) if placed else float(index)

    return [key for _, key in sorted(enumerate(row), key=lambda item: (barycenter(item), item[0]))]


def _coordinates(layers, segments, sizes, chains):
    """x by a few rounds of pulling towards neighbours in order, then long edges made
    straight where there is room; y from layer heights."""
    neighbours: dict[int, list[int]] = {}
    for source, target in segments:
        neighbours.setdefault(source, []).append(target)
        neighbours.setdefault(target, []).append(source)
    x: dict[int, float] = {}
    for row in layers:
        cursor = 0.0
        for key in row:
            width = sizes[key][0]
            x[key] = cursor + width / 2
            cursor += width + _GAP_X
    for _ in range(6):
        for row in layers:
            desired = [
                sum(x[other] for other in neighbours[key]) / len(neighbours[key])
                if neighbours.get(key)
                else x[key]
                for key in row
            ]
            _place_in_order(row, desired, sizes, x)
    _straighten(chains, layers, sizes, x)
    y: dict[int, float] = {}
    top = _MARGIN
    for row in layers:
        height = max((sizes[key][1] for key in row), default=0.0)
        for key in row:
            y[key] = top + height / 2
        top += height + _GAP_Y
    left = min((x[key] - sizes[key][0] / 2 for key in x), default=0.0)
    right = max((x[key] + sizes[key][0] / 2 for key in x), default=0.0)
    shift = _MARGIN - left
    positions = {key: (x[key] + shift, y[key]) for key in x}
    return positions, right - left + 2 * _MARGIN, top - _GAP_Y + _MARGIN


def _straighten(chains, layers, sizes, x):
    """Line up each long edge's waypoints on one x (their median, first or last) where every
    layer has room for it between the waypoint's neighbours, so the edge runs straight down."""
    row_of = {}
    for row in layers:
        for slot, key in enumerate(row):
            row_of[key] = (row, slot)
    for _ in range(2):
        for chain in chains:
            candidates = (sorted(x[key] for key in chain)[len(chain) // 2], x[chain[0]], x[chain[-1]])
            for target in candidates:
                if all(_fits(row_of[key], target, sizes, x) for key in chain):
                    for key in chain:
                        x[key] = target
                    break


def _fits(place, target, sizes, x) -> bool:
    row, slot = place
    half = sizes[row[slot]][0] / 2
    if slot > 0:
        left = row[slot - 1]
        if x[left] + sizes[left][0] / 2 + _GAP_X > target - half:
            return False
    if slot + 1 < len(row):
        right = row[slot + 1]
        if x[right] - sizes[right][0] / 2 - _GAP_X < target + half:
            return False
    return True


def _place_in_order(row, desired, sizes, x):
    """Put each box as near its desired x as the order and the gaps allow."""
    placed = []
    for key, want in zip(row, desired):
        if placed:
            previous = placed[-1]
            least = previous[1] + sizes[previous[0]][0] / 2 + _GAP_X + sizes[key][0] / 2
            want = max(want, least)
        placed.append((key, want))
    offset = sum(want - got for want, (_, got) in zip(desired, placed)) / max(len(placed), 1)
    for key, value in placed:
        x[key] = value + offset
