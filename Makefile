# The two commands of the README's quick start:
#   make demo   set up .venv and run the main job on the bundled model (writes out/demo/)
#   make test   set up .venv and run the test suite
.PHONY: setup demo test bench clean-venv

setup:
	@bash scripts/setup-venv.sh

demo: setup
	.venv/bin/steergan demo --out out/demo

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python bench/generate_speed.py
	.venv/bin/python bench/train_speed.py

clean-venv:
	rm -rf .venv
