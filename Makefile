.PHONY: test lint bench ci
test:
	pytest
lint:
	ruff check app tests bench && mypy app/core && lint-imports
bench:
	python bench/bench_engine.py && python bench/bench_local_model.py && python bench/bench_ui.py
ci:
	bash .ci/run
