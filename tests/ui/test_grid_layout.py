"""The grid at real size: grouping, hidden columns, fit or fixed widths, the frozen case column,
and the layout remembered per user and file."""

from __future__ import annotations

from pathlib import Path

from app.core.document import load_prototype, save_prototype
from app.core.prototype import ModelTarget
from app.ui.grid_layout import GridLayout, column_width


def test_grouping_orders_columns_and_names_groups() -> None:
    by_model = GridLayout()
    assert by_model.columns(["a", "b"], ["x", "y"]) == [("a", "x"), ("b", "x"), ("a", "y"), ("b", "y")]
    by_profile = GridLayout(group_by="profile", hidden={("a", "y")})
    columns = by_profile.columns(["a", "b"], ["x", "y"])
    assert columns == [("a", "x"), ("b", "x"), ("b", "y")]
    assert by_profile.groups(columns) == [("a", 0, 1), ("b", 1, 2)]


def test_layout_round_trips_and_survives_garbage() -> None:
    prefs = GridLayout(group_by="profile", fit=False, hidden={("a", "x")})
    assert GridLayout.from_json(prefs.to_json()) == prefs
    assert GridLayout.from_json({"group_by": 3, "hidden": [[1, 2], "zz"], "fit": "no"}) == GridLayout()
    assert GridLayout.from_json(None) == GridLayout()


def test_column_width_fit_and_fixed() -> None:
    assert column_width(1200, 4, fit=True, fixed=300) == 300
    assert column_width(1200, 12, fit=True, fixed=300) == 190  # never squeezed unreadable
    assert column_width(1200, 2, fit=True, fixed=300, maximum=500) == 500
    assert column_width(1200, 12, fit=False, fixed=300) == 300


def _big_file(path: Path) -> None:
    """4 profiles x 3 models x 2 cases."""
    proto = load_prototype(path)
    first = proto.profiles[0]
    proto.profiles += [first.model_copy(update={"id": f"p{n}", "name": f"Profile {n}"}) for n in (3, 4)]
    base = proto.model("fake")
    proto.models = [base] + [
        ModelTarget(id=f"fake{n}", provider="vllm", model="fake-model", name=f"Fake {n}",
                    base_url=base.base_url)
        for n in (2, 3)
    ]
    save_prototype(proto, path)


def _open(make_window, path: Path):
    window = make_window(path, fake_only=False)
    for model in window.document.proto.models:
        window.selection.set_shown("models", model.id, model.id != "local")
    return window


def _header_order(window) -> list[tuple[str, str]]:
    return [tuple(h.property("variant")) for h in window.grid._headers]


def test_group_hide_and_remember_per_file(qtbot, make_window, proto_file: Path) -> None:
    _big_file(proto_file)
    window = _open(make_window, proto_file)
    grid = window.grid
    assert len(grid._headers) == 12
    assert _header_order(window)[:4] == [(f"p{n}", "fake") for n in range(1, 5)]
    grid.controls.group_by.setCurrentIndex(1)  # by profile: one profile's three models side by side
    assert _header_order(window)[:3] == [("p1", "fake"), ("p1", "fake2"), ("p1", "fake3")]
    assert [g.property("group") for g in grid._group_labels] == ["p1", "p2", "p3", "p4"]
    action = next(a for a in grid.controls.menu.actions() if a.text().startswith("Profile 2 · Fake 2"))
    action.setChecked(False)
    assert ("p2", "fake2") not in _header_order(window) and len(grid._headers) == 11
    assert ("c1", "p2", "fake2") not in grid.cells
    assert grid.controls.hidden_note.text() == "1 hidden"
    window.close()

    again = _open(make_window, proto_file)
    assert again.grid.layout_prefs.group_by == "profile"
    assert ("p2", "fake2") not in _header_order(again)
    again.grid.show_all_columns()
    assert len(again.grid._headers) == 12


def test_fit_to_width_or_fixed_and_scroll(qtbot, make_window, proto_file: Path) -> None:
    _big_file(proto_file)
    window = _open(make_window, proto_file)
    window.resize(1500, 900)
    grid = window.grid
    grid.hide_column(("p1", "fake"))
    for column in grid.all_columns()[4:]:
        grid.hide_column(column)
    assert len(grid._headers) == 3
    cell = next(iter(grid.cells.values()))
    room = grid.scroll_area.viewport().width()
    qtbot.waitUntil(lambda: cell.width() * 3 >= room - 40)  # three columns fill the width
    assert grid.scroll_area.horizontalScrollBar().maximum() == 0
    grid.controls.fit.setChecked(False)
    qtbot.waitUntil(lambda: cell.width() == 300)
    assert not grid.layout_prefs.fit


def test_case_column_stays_while_answers_scroll(qtbot, make_window, proto_file: Path) -> None:
    _big_file(proto_file)
    window = _open(make_window, proto_file)
    window.resize(1000, 600)
    grid = window.grid
    grid.controls.fit.setChecked(False)
    bar = grid.scroll_area.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    box = grid._row_boxes[1]
    x_before = box.mapTo(window, box.rect().topLeft()).x()
    bar.setValue(bar.maximum())
    assert box.mapTo(window, box.rect().topLeft()).x() == x_before  # frozen: still on screen
    assert box.isVisible()
    row_cell = grid._order[1][0]
    qtbot.waitUntil(lambda: box.y() == row_cell.y())
    grid.scroll_area.verticalScrollBar().setValue(grid.scroll_area.verticalScrollBar().maximum())
    top = lambda w: w.mapTo(window, w.rect().topLeft()).y()  # noqa: E731
    qtbot.waitUntil(lambda: top(box) == top(row_cell))


def test_grid_only_gives_the_columns_the_width_and_gives_it_back(
    qtbot, make_window, proto_file: Path
) -> None:
    _big_file(proto_file)
    window = _open(make_window, proto_file)
    window.resize(1500, 900)
    qtbot.waitUntil(lambda: window.navigator.width() > 0)
    before = window.splitter.sizes()
    visible = lambda: sum(1 for c in window.grid._order[0] if not c.visibleRegion().isEmpty())  # noqa: E731
    shown_before = visible()
    window.act_grid_only.trigger()
    qtbot.waitUntil(lambda: window.splitter.sizes()[:2] == [0, 0])
    qtbot.waitUntil(lambda: visible() > shown_before)
    window.act_grid_only.trigger()
    qtbot.waitUntil(lambda: window.splitter.sizes() == before)
