# alpaca-lessons: `make course` sets everything up and opens the course; `make test` runs every test but the
# instructor kit's (`make kit`). All create .venv themselves. See README.md; instructors: INSTRUCTORS.md.

VENV      ?= .venv
PY        := $(VENV)/bin/python
# A CPU build of torch by default; on a CUDA machine: make course TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_INDEX ?=
# Offline mirror of the public data: used when set, or when ../shared/data sits beside the checkout.
ALPACA_LESSONS_DATA ?= $(if $(wildcard ../shared/data/SOURCES.md),$(abspath ../shared/data))
export ALPACA_LESSONS_DATA
# The instructor kit's nbgrader course folder (make assignments, make grade SUBMISSIONS=folder).
COURSE_OUT ?= build/course
NBVAL     := --nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-current-env
# Tests run in JOBS pytest-xdist workers, a file (so a notebook's cells) to one worker, each with its share of the
# cores (conftest.py). 2 on CI's 2 cores (a third worker measured no faster: 240 s against 237 s); JOBS=1 runs
# them in one process.
JOBS      ?= 2
XDIST     := $(if $(filter-out 1,$(JOBS)),-n $(JOBS) --dist loadfile)

.PHONY: setup course test unit notebooks lint clean course-models instructor kit assignments grade laptop browser

# The extras `make setup` installs. CI adds instructor and browser (one pip resolve instead of three, ~8 s less);
# their stamps are then set with this one, so `make kit` and `make browser` install nothing more.
EXTRAS    ?= dev,diversity

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@ $(foreach extra,instructor browser,$(if $(findstring $(extra),$(EXTRAS)),$(VENV)/.$(extra)))

setup: $(VENV)/.installed

# The instructor extra (nbgrader) on top of setup: students never need it.
$(VENV)/.instructor: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,diversity,instructor]"
	touch $@

instructor: $(VENV)/.instructor

# The browser extra (Selenium) on top of setup: students never need it. The browser is the system's:
# Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver).
$(VENV)/.browser: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,diversity,browser]"
	touch $@

course: setup
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: setup
	$(PY) -m pytest $(XDIST) tests notebooks $(NBVAL) -m "not kit and not browser" -q

unit: setup
	$(PY) -m pytest $(XDIST) tests -m "not kit and not browser" -q

# The instructor kit under nbgrader (CI runs it after `make test`): a fixture lesson, then every real lesson,
# released with no solution in it and autograded as three students (source: full points, release: 0, a planted
# wrong answer: less). The release and the planted answer run in quick mode, two lessons at a time; the committed
# lessons are graded on their outputs (nbval reproduces them). 256 s on the quiet 2-core CI machine, with the
# browser suite running beside it (2026-11-30).
kit: instructor
	$(PY) -m pytest tests -m kit -q

# The laptop extra (llama-cpp-python compiles llama.cpp: about 15 minutes on 2 cores) and the tests that need it.
laptop: setup
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,diversity,laptop]"
	$(PY) -m pytest tests -m laptop -q

# Every lesson opened in JupyterLab in headless Chromium and run (no error output, every widget rendered), and
# the widget scenarios (tests/browser; CI runs it after `make kit`). One server on a scratch copy of the project,
# lessons in quick mode; screenshots in build/browser/.
browser: $(VENV)/.browser
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "make browser needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"; exit 2; }
	$(PY) -m pytest tests/browser -m browser -q

# The student release of every lesson with exercises, checked clean: $(COURSE_OUT)/release/lessonNN/.
assignments: instructor
	$(VENV)/bin/alpaca-lessons course release --out $(COURSE_OUT)

# Grade SUBMISSIONS/<student>/<lessonNN>/*.ipynb: $(COURSE_OUT)/grades.csv and $(COURSE_OUT)/feedback/.
grade: instructor
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-of-student/lessonNN/notebooks"; exit 2; }
	$(VENV)/bin/alpaca-lessons course grade $(SUBMISSIONS) --out $(COURSE_OUT)

# Re-execute every notebook in place (run after changing a lesson; commit the outputs).
notebooks: setup
	cd notebooks && for nb in [0-9]*.ipynb; do \
	  ../$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $$nb || exit 1; done

# The course's three small models (data/course_models/: base, tuned, scratch; lessons 06-09 load them), from the
# recipe in alpaca_lessons/training/course_models.py. Resumable: a finished model is skipped, an interrupted one
# resumes from its checkpoint. About 2 hours on one thread of a 2-core CPU; the committed ones took 7.7 minutes on
# one H200 (see data/course_models/README.md). One thread: a second one mostly spin-waits on a busy 2-core machine.
course-models: setup
	OMP_NUM_THREADS=1 $(PY) -m alpaca_lessons.training.course_models --size course

lint: setup
	$(VENV)/bin/ruff check alpaca_lessons tests benchmarks

clean:
	rm -rf $(VENV)
