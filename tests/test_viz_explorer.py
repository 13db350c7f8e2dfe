"""The backward-pass explorer: the recorded steps, the page, and the page in a real browser."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import retrograd
from retrograd import viz


def seed_graph():
    x = retrograd.tensor(2.0, requires_grad=True)
    a = retrograd.add(x, 1)
    b = retrograd.add(x, 2)
    y = retrograd.mul(a, b)
    return x, a, b, y


def record(y, params=None):
    model = viz.draw(y, params=params).model
    return model, viz.record_backward(y, model)


def test_steps_follow_the_engine_order_and_reach_x_with_7():
    x, _a, _b, y = seed_graph()
    _model, steps = record(y, {"x": x})
    assert [step["kind"] for step in steps] == ["start", "node", "node", "node", "leaf", "end"]
    assert [step.get("name") for step in steps[1:5]] == [
        "MulBackward0", "AddBackward0", "AddBackward0", "AccumulateGrad"]
    leaf = steps[4]
    assert leaf["grad"] == "7"
    assert [item["value"] for item in leaf["received"]] == ["3", "4"]
    assert leaf["total"] == "3 + 4 = 7"
    assert "x.grad goes from None to 7" in leaf["text"]


def test_gradients_sent_on_each_edge_are_recorded():
    _x, a, b, y = seed_graph()
    model, steps = record(y)
    keys = model.node_keys
    mul = steps[1]
    assert {edge["id"]: edge["value"] for edge in mul["edges"]} == {
        f"e{keys[id(y.grad_fn)]}_{keys[id(a.grad_fn)]}": "4",
        f"e{keys[id(y.grad_fn)]}_{keys[id(b.grad_fn)]}": "3",
    }
    assert mul["freed"] is True


def test_recording_matches_a_real_backward_on_a_bigger_graph():
    x = retrograd.tensor([0.5, -1.0, 2.0], dtype=retrograd.float64, requires_grad=True)
    w = retrograd.tensor([1.5, 0.25, -2.0], dtype=retrograd.float64, requires_grad=True)
    loss = ((x * w).exp() + x.sin() * w).sum()
    _model, steps = record(loss, {"x": x, "w": w})
    recorded = {step["text"].split(" runs")[0]: step["grad"] for step in steps if step["kind"] == "leaf"}
    loss.backward()
    assert recorded["AccumulateGrad of x"] == viz._model.describe_value(x.grad)
    assert recorded["AccumulateGrad of w"] == viz._model.describe_value(w.grad)


def test_recorded_order_is_the_engines_order():
    def build():
        x = retrograd.tensor([0.5, -1.0], requires_grad=True)
        w = retrograd.tensor([2.0, 3.0], requires_grad=True)
        b = retrograd.tensor(0.5, requires_grad=True)
        hidden = (x * w + b).sin()
        return x, w, b, (hidden * x + hidden.exp() * w).sum() + b

    x, w, b, loss = build()
    model = viz.draw(loss, params={"x": x, "w": w, "b": b}).model
    recorded = [step["key"] for step in viz.record_backward(loss, model) if step["kind"] in ("node", "leaf")]

    x, w, b, loss = build()
    model = viz.draw(loss, params={"x": x, "w": w, "b": b}).model
    keys = model.node_keys
    ran = []
    for box in model.boxes.values():
        if box.kind == "op":
            box.node.register_prehook(lambda grads, node=box.node: ran.append(keys[id(node)]))
    for leaf in (x, w, b):
        leaf.register_hook(lambda grad, leaf=leaf: ran.append(keys[id(leaf._grad_accumulator())]))
    loss.backward()
    assert recorded == ran
    assert len(ran) == len(model.boxes) - 1


def test_recording_leaves_the_users_graph_unchanged():
    x, a, _b, y = seed_graph()
    a.retain_grad()
    x.grad = retrograd.tensor(1.0)
    steps = record(y, {"x": x})[1]
    assert steps[4]["text"].endswith("gradients accumulate until zeroed.)")
    assert [step["text"].endswith("so that tensor's .grad becomes 4.") for step in steps] == [
        False, False, False, True, False, False]
    assert steps[4]["grad"] == "8"
    assert x.grad.item() == 1.0 and a.grad is None
    assert y.grad_fn._released is False
    y.backward()
    assert x.grad.item() == 8.0


def test_a_freed_graph_cannot_be_explored(tmp_path):
    _x, _a, _b, y = seed_graph()
    y.backward()
    with pytest.raises(RuntimeError, match="were freed by an earlier backward"):
        viz.explore(y, tmp_path / "page.html")


def test_page_is_self_contained(tmp_path):
    x, _a, _b, y = seed_graph()
    path = viz.explore(y, tmp_path / "page.html", params={"x": x})
    page = Path(path).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<svg" in page and "<script>" in page
    data = json.loads(re.search(r"const DATA = (.*);\n", page).group(1))
    assert len(data["steps"]) == 6


def test_non_scalar_root_is_explored_with_a_given_gradient(tmp_path):
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    weights = retrograd.tensor([1.0, 0.5])
    steps = viz.record_backward(y, viz.draw(y).model, weights)
    assert steps[0]["text"].startswith("backward() starts: the gradient [1, 0.5]")
    assert [step["grad"] for step in steps if step["kind"] == "leaf"] == ["[2, 2]"]
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        viz.explore(y, tmp_path / "page.html")


def test_large_graphs_are_sent_to_draw(tmp_path):
    x = retrograd.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.0
    with pytest.raises(ValueError, match=r"51 nodes, more than max_nodes=20.*draw\(\)"):
        viz.explore(y, tmp_path / "page.html", max_nodes=20)
    assert not (tmp_path / "page.html").exists()


def test_recording_applies_hooks_as_the_engine_does():
    x, a, b, y = seed_graph()
    a.register_hook(lambda grad: grad * 10)
    x.register_hook(lambda grad: grad + 1)
    steps = record(y, {"x": x, "a": a})[1]
    leaf = next(step for step in steps if step["kind"] == "leaf")
    y.backward()
    assert leaf["grad"] == "44" == viz._model.describe_value(x.grad)
    assert leaf["total"] == "3 + 40 = 43 (a hook changed it to 44)"
    (a_step,) = [step for step in steps if "(a)" in step["text"].split(" runs")[0]]
    assert a_step["total"] == "4 (a hook changed it to 40)"


def test_a_pre_hook_on_accumulate_grad_shows_as_backward_gives_it():
    x = retrograd.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    (accumulate,) = [edge[0] for edge in y.grad_fn.next_functions[0][0].next_functions if edge[0]]
    accumulate.register_prehook(lambda grads: (grads[0] * 100,))
    steps = record(y, {"x": x})[1]
    (leaf,) = [step for step in steps if step["kind"] == "leaf"]
    assert leaf["grad"] == "[300, 300]"
    assert leaf["total"] == "[3, 3] (a hook changed it to [300, 300])"
    assert x.grad is None and y.grad_fn._released is False
    y.backward()
    assert x.grad.tolist() == [300.0, 300.0]


def test_the_explorer_is_told_the_steps_by_the_engine(monkeypatch):
    """One schedule: the explorer gets its steps from the engine's pass, not a copy of it."""
    from retrograd.autograd import engine

    x, _a, _b, y = seed_graph()
    calls = []
    real_run = engine._run

    def counting_run(*args):
        calls.append(args[-1])
        return real_run(*args)

    monkeypatch.setattr(engine, "_run", counting_run)
    record(y)
    assert len(calls) == 1 and calls[0] is not None and calls[0].dry_run


def test_nan_gradients_are_not_reported_as_changed_by_a_hook():
    x = retrograd.tensor([1.0, float("nan")], requires_grad=True)
    y = (x * x).sum()
    steps = record(y)[1]
    assert not any("a hook changed" in step.get("text", "") for step in steps)


# -- in a real browser -----------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def run_chromium(tmp_path, url, *extra):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1000,520", *extra, url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, f"chromium failed: {completed.stderr[-2000:]}"
    return completed.stdout


def attributes_of(tag_attributes: str) -> dict:
    return dict(re.findall(r'data-(\w+)="([^"]*)"', tag_attributes))


def page_status(dom: str) -> dict:
    match = re.search(r'<div id="status"([^>]*)>(.*?)</div>', dom, re.S)
    assert match, "the page did not render its status"
    return {**attributes_of(match.group(1)), "text": match.group(2)}


def walked_steps(dom: str) -> list[dict]:
    """What the page showed at each step, as logged by its `walk=1` harness."""
    log = re.search(r'<div id="log"[^>]*>(.*?</div>)</div>', dom, re.S).group(1)
    return [{**attributes_of(attributes), "text": text}
            for attributes, text in re.findall(r"<div([^>]*)>(.*?)</div>", log, re.S)]


@needs_chromium
def test_browser_steps_through_the_seed_backward_pass(tmp_path):
    x, a, b, y = seed_graph()
    path = viz.explore(y, tmp_path / "seed.html", params={"x": x, "a": a, "b": b, "y": y})
    expected = [
        ("start", "", "gradient 1 (d output / d output) arrives at MulBackward0", "1"),
        ("node", "MulBackward0", "it sends 4 to AddBackward0 (a), 3 to AddBackward0 (b)", "1|4|3"),
        ("node", "AddBackward0", "gradient 3 arrived; it sends 3 to x", "3|3"),
        ("node", "AddBackward0", "gradient 4 arrived; it sends 4 to x", "4|4"),
        ("leaf", "AccumulateGrad", "receives 3 + 4 = 7, so x.grad goes from None to 7", ".grad = 7|4|3"),
        ("end", "", "backward() is done", ".grad = 7"),
    ]
    dom = run_chromium(tmp_path, f"file://{path}?walk=1&step=4", "--dump-dom")
    shown = walked_steps(dom)
    assert len(shown) == len(expected)
    for step, (status, (kind, running, words, labels)) in enumerate(zip(shown, expected)):
        assert status["step"] == str(step)
        assert status["counter"] == f"Step {step} of 5"
        assert status["kind"] == kind
        assert status["running"] == running
        assert words in status["text"]
        assert sorted(status["labels"].split("|")) == sorted(labels.split("|"))
    final = page_status(dom)
    assert final["step"] == "4" and final["grad"] == "7"
    shot = tmp_path / "explorer-step4.png"
    run_chromium(tmp_path, f"file://{path}?step=4", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_browser_buttons_keys_and_details(tmp_path):
    x, a, b, y = seed_graph()
    path = viz.explore(y, tmp_path / "seed.html", params={"x": x})
    clicked = page_status(run_chromium(tmp_path, f"file://{path}?click=next,next,next,next,prev,next",
                                       "--dump-dom"))
    assert clicked["step"] == "4" and clicked["running"] == "AccumulateGrad"
    pressed = page_status(run_chromium(tmp_path, f"file://{path}?press=End,ArrowLeft,ArrowLeft,ArrowRight",
                                       "--dump-dom"))
    assert pressed["step"] == "4"
    model = viz.draw(y, params={"x": x}).model
    leaf_key = model.node_keys[id(x._grad_accumulator())]
    dom = run_chromium(tmp_path, f"file://{path}?step=4&click=n{leaf_key}", "--dump-dom")
    details = re.search(r'<div id="details">(.*?)</div>', dom, re.S).group(1)
    assert details.startswith("x: leaf, scalar, float32")
    assert "at step 4: received 3 + 4 = 7" in details and ".grad is now 7" in details
