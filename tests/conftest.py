"""Suite-wide hooks: the tour of the documented commands starts as soon as the suite is collected."""
from __future__ import annotations

from tests import test_tour


def pytest_collection_finish(session):
    pages = [item.callspec.params["page"] for item in session.items
             if getattr(item, "originalname", None) == "test_every_documented_command_runs"]
    if pages:
        # Two lanes: beside the other tests (at the lowest priority) they take only
        # the time those tests leave idle; once the other tests are done, both cores.
        alone = all(item.path.name == "test_tour.py" for item in session.items)
        test_tour.start_tour(pages, workers=2, beside_suite=not alone)


def pytest_sessionfinish(session, exitstatus):
    test_tour.stop_tour()
