# Kharita: `make demo` runs the main job on a fresh machine, `make test` the tests.
# Both set everything up first (`make install`): a .venv in the repo, the Python
# package with pinned dependencies, the map's JavaScript from npm, the gazetteer index.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out
FLAGSHIP := ../shared/samples/000_0935f1ffdb46c564.txt

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml web/package.json web/package-lock.json web/build.sh web/admin1.mjs
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	bash web/build.sh
	$(BIN)/python -c "from kharita.gazetteer import default_gazetteer; default_gazetteer()"
	touch $(STAMP)

demo: install
	mkdir -p $(OUT)
	rm -f $(OUT)/demo.db $(OUT)/demo.db-wal $(OUT)/demo.db-shm
	$(BIN)/kharita ingest samples --db $(OUT)/demo.db
	@if [ -f $(FLAGSHIP) ]; then \
		$(BIN)/kharita ingest $(FLAGSHIP) --published 2017-04-23 --db $(OUT)/demo.db; \
	else echo "(no ../shared here: the flagship sample is skipped)"; fi
	$(BIN)/kharita events --db $(OUT)/demo.db
	$(BIN)/kharita export --format acled-csv -o $(OUT)/events.csv --db $(OUT)/demo.db
	$(BIN)/kharita export --format geojson -o $(OUT)/events.geojson --db $(OUT)/demo.db
	$(BIN)/kharita export --format parquet -o $(OUT)/events.parquet --db $(OUT)/demo.db
	@echo
	@echo "Exports are in $(OUT)/. To see the map:"
	@echo "  $(BIN)/kharita serve --db $(OUT)/demo.db    then open http://127.0.0.1:8000/"

test: install
	$(BIN)/pytest -q

bench: install
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(OUT) test-artifacts .pytest_cache
