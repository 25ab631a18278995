"""The clinic web app end to end in headless Chromium, on SQLite and on PostgreSQL.

The real server (``gutaxis serve`` in a subprocess, see clinic_server.py) is driven by
Playwright through the pages a patient, a clinician and a researcher use (issue 13, item 7):
logging in and out, a diary day entered on a phone, a clinician's timeline and an
intervention started and stopped, denied pages, and every page each role reaches by its
links. Every page visited must log no console error, no CSP violation, no uncaught exception
and no failed request. A screenshot of every step is saved in ``GUTAXIS_SCREENSHOTS``
(default: a temporary folder) for a person to look at.

Needs Playwright and Debian's chromium (``/usr/bin/chromium``; ``playwright install`` is not
used) and a PostgreSQL server (``GUTAXIS_TEST_POSTGRES``). Without them the tests skip,
except under ``GUTAXIS_REQUIRE_DATA=1`` (CI), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from clinic_server import (
    ACCOUNTS,
    PASSWORD,
    PATIENT_A,
    PATIENT_B,
    ClinicServer,
    PostgresUnavailableError,
    postgres_database,
    running_clinic,
)

CHROMIUM = os.environ.get("GUTAXIS_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HOME = {"patient": "/me/diary", "clinician": "/clinic/patients", "researcher": "/research",
        "admin": "/admin"}
#: Reports every Content-Security-Policy violation of a page to its console (Chromium logs
#: most of them there itself; this catches the rest, e.g. report-only ones).
CSP_WATCH = """document.addEventListener('securitypolicyviolation', e => console.error(
  'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));"""
PROBIOTIC = {"type": "probiotic", "product": "Lactobacillus rhamnosus GG", "dose": "10",
             "dose_unit": "billion CFU"}


def _require(reason: str) -> None:
    if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
        pytest.fail(reason + " (GUTAXIS_REQUIRE_DATA=1: the browser tests must run; "
                    "apt-get install -y chromium postgresql, pip install playwright)")
    pytest.skip(reason)


def _today() -> dt.date:
    # the scenario's patients live in UTC (the default timezone of a patient record)
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require("playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _require(f"chromium not found at {CHROMIUM}")
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # a loaded CI machine, not a slow app, is the risk
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClinicServer]:
    """``gutaxis serve`` with the scenario's people, on SQLite, then on PostgreSQL."""
    data_dir = tmp_path_factory.mktemp(f"clinic-{request.param}")
    with ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            try:
                url = stack.enter_context(postgres_database())
            except PostgresUnavailableError as exc:
                _require(str(exc))
        yield stack.enter_context(running_clinic(request.param, data_dir, url))


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("GUTAXIS_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Tab:
    """One user's browser tab (own context: own cookies) that records every console error,
    CSP violation, page error, failed request and error response while it is open."""

    page: Any
    server: ClinicServer
    shots: Path
    prefix: str
    problems: list[str] = field(default_factory=list)
    expected: set[tuple[str, int]] = field(default_factory=set)  # (path, status) documents
    unchecked: set[str] = field(default_factory=set)  # documents another test checks
    step: int = 0

    def watch(self) -> None:
        page = self.page
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"request failed: {req.method} {req.url} ({req.failure})"))
        page.on("response", self._response)

    def _path(self, url: str) -> str:
        return url.removeprefix(self.server.base_url).split("?", 1)[0]

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        where = self._path(message.location.get("url", ""))
        found = re.search(r"status of (\d{3})", message.text)
        if found and ((where, int(found.group(1))) in self.expected
                      or where in self.unchecked):
            return  # the error status of a document the test asked for (a 403 page)
        self.problems.append(f"console error on {self.page.url}: {message.text} ({where})")

    def _response(self, response: Any) -> None:
        path = self._path(response.url)
        if response.request.resource_type == "document" and "script-src 'self'" not in (
                response.headers.get("content-security-policy") or ""):
            # without the policy, "no CSP violation" would prove nothing
            self.problems.append(f"no Content-Security-Policy on {path}")
        if (response.status >= 400 and (path, response.status) not in self.expected
                and path not in self.unchecked):
            self.problems.append(f"{response.status} from {response.request.method} {path}")

    def expect_status(self, path: str, status: int) -> None:
        """Let the document at ``path`` answer ``status`` (>= 400) without it counting as a
        problem (the test asserts that status itself)."""
        self.expected.add((path, status))

    def goto(self, path: str, status: int = 200) -> Any:
        if status >= 400:
            self.expect_status(path, status)
        response = self.page.goto(self.server.url(path))
        assert response is not None and response.status == status, (
            f"{path}: {response.status if response else None}, expected {status}")
        self.page.wait_for_load_state("load")
        return response

    def shot(self, step: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.shots / f"{self.prefix}-{self.step:02d}-{step}.png"),
                             full_page=True)

    def path(self) -> str:
        return self._path(self.page.url)

    def log_in(self, username: str, password: str = PASSWORD) -> None:
        """Log in with the login page's form, as a person does."""
        self.goto("/login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state("load")


@pytest.fixture
def tabs(browser: Any, server: ClinicServer, screenshots: Path,
         request: pytest.FixtureRequest) -> Iterator[Callable[..., Tab]]:
    """``tabs(viewport=..., **context_options)`` opens a new user's tab; all are closed at
    the end. Call :func:`assert_clean` on each tab when the scenario is done."""
    opened: list[Any] = []
    scenario = request.node.originalname.removeprefix("test_")
    username = request.node.callspec.params.get("username")  # of the per-role tests
    if username:
        scenario += "-" + username

    def open_tab(viewport: dict[str, int] = DESKTOP, **options: Any) -> Tab:
        context = browser.new_context(viewport=viewport, **options)
        context.add_init_script(CSP_WATCH)
        opened.append(context)
        tab = Tab(page=context.new_page(), server=server, shots=screenshots,
                  prefix=f"{server.backend}-{scenario}-{len(opened)}")
        tab.watch()
        return tab

    yield open_tab
    for context in opened:
        context.close()


def assert_clean(*opened: Tab) -> None:
    """No console error, CSP violation, page error or failed request in any tab."""
    problems = [p for tab in opened for p in tab.problems]
    assert problems == [], "\n".join(problems)


# ---- form helpers: act on what a person sees (labels, buttons), whatever the widget ----

def choose(form: Any, name: str, value: str) -> None:
    """Tick the radio button or checkbox ``name=value`` (its label when the input itself is
    styled away, as in a tap-target scale)."""
    from playwright.sync_api import expect

    control = form.locator(f'input[name="{name}"][value="{value}"]')
    expect(control).to_have_count(1)
    if control.is_visible():
        control.click()
    else:
        control_id = control.get_attribute("id")
        label = (form.locator(f'label[for="{control_id}"]') if control_id
                 else form.locator("label").filter(has=control))
        label.first.click()
    expect(control).to_be_checked()


def set_field(form: Any, name: str, value: str) -> None:
    """Give field ``name`` the value ``value`` the way its widget takes it."""
    from playwright.sync_api import expect

    control = form.locator(f'[name="{name}"]').first
    tag = control.evaluate("e => e.tagName.toLowerCase()")
    kind = (control.get_attribute("type") or "").lower()
    if tag == "select":
        control.select_option(value)
    elif kind in ("radio", "checkbox"):
        choose(form, name, value)
        return
    elif kind == "range":  # keyboard, as a person without a mouse would
        control.focus()
        control.press("Home")
        minimum = float(control.get_attribute("min") or 0)
        step = float(control.get_attribute("step") or 1)
        for _ in range(round((float(value) - minimum) / step)):
            control.press("ArrowRight")
    else:
        control.fill(value)
    expect(control).to_have_value(re.compile(rf"^{re.escape(value)}(\.0+)?$"))


def submitted_value(form: Any, name: str) -> str | None:
    """What the form sends for ``name`` as it stands ('' and nothing read as None)."""
    value = form.evaluate("(f, n) => new FormData(f).get(n)", name)
    return value if value not in (None, "") else None


def _number(text: str | None) -> float | None:
    return None if text is None else float(text)


def assert_fits_a_phone(page: Any) -> None:
    """No sideways scrolling, and every choice (radio, checkbox) can be tapped: its label is
    at least 24 x 24 CSS pixels (WCAG 2.2, 2.5.8 target size)."""
    wide, shown = page.evaluate(
        "[document.scrollingElement.scrollWidth, document.documentElement.clientWidth]")
    assert wide <= shown, f"the page is {wide} px wide on a {shown} px screen"
    small = page.evaluate("""() => [...document.querySelectorAll(
        'input[type=radio], input[type=checkbox]')].flatMap(input => {
          const boxes = [input, ...input.labels].map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0 && r.height > 0);
          const ok = boxes.some(r => r.width >= 24 && r.height >= 24);
          return ok ? [] : [input.name + '=' + input.value];
        })""")
    assert small == [], f"tap targets under 24 x 24 px: {small}"


# ---- a) login ----

def test_login_refuses_a_wrong_password_then_lands_on_the_role_home(
        tabs: Callable[..., Tab], server: ClinicServer) -> None:
    tab = tabs()
    page = tab.page
    tab.goto("/login")
    tab.shot("login-page")
    tab.expect_status("/login", 401)
    page.get_by_label("Username").fill("pat_a")
    page.get_by_label("Password").fill("not the password at all")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Log in").click()
    assert answer.value.status == 401
    page.wait_for_load_state("load")
    alert = page.get_by_role("alert")
    assert "wrong username or password" in alert.inner_text().lower()
    tab.shot("wrong-password")
    page.get_by_label("Password").fill(PASSWORD)
    # the home page itself is checked by test_every_page_a_role_reaches_by_its_links...
    tab.unchecked.add(HOME["patient"])
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert tab.path() == HOME["patient"]
    assert page.locator("header .who").inner_text().startswith("pat_a")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "gutaxis_session"]
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Lax")
    tab.shot("logged-in")
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    assert tab.path() == "/login"
    assert not [c for c in page.context.cookies() if c["name"] == "gutaxis_session"]
    tab.page.goto(server.url("/"))  # the session is over: back to the login page
    assert tab.path() == "/login"
    tab.shot("logged-out")
    assert_clean(tab)


# ---- b) a patient's diary day on a phone ----

def test_patient_enters_todays_diary_on_a_phone(
        tabs: Callable[..., Tab], server: ClinicServer) -> None:
    from playwright.sync_api import expect

    tab = tabs(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = tab.page
    tab.log_in("pat_a")
    assert tab.path() == "/me/diary"
    form = page.locator("#diary-form")
    expect(form).to_be_visible()
    today = _today()
    assert form.locator('[name="day"]').input_value() == today.isoformat()
    assert_fits_a_phone(page)
    tab.shot("diary-empty")
    # pain 6 by tapping the 6 of the scale
    pain_scale = form.locator(".scale").filter(has=page.locator('input[name="pain"]'))
    pain_scale.get_by_text("6", exact=True).first.click()
    expect(form.locator('input[name="pain"][value="6"]')).to_be_checked()
    for site in ("lower_back", "abdomen"):
        choose(form, "pain_sites", site)
    choose(form, "bristol", "4")
    set_field(form, "gi_bloating", "3")
    set_field(form, "fibre_servings", "2")
    choose(form, "probiotic_taken", "yes")
    set_field(form, "stress", "5")
    set_field(form, "sleep_hours", "7")
    tab.shot("diary-filled")
    # what the untouched fields send as they stand (blank, or a slider's resting value)
    untouched = {name: submitted_value(form, name) for name in (
        "fermented_servings", "ultra_processed_servings", "added_sugar_g", "exercise_minutes",
        "sleep_quality", "notes")}
    symptoms = form.evaluate("f => [...f.elements].map(e => e.name)"
                             ".filter(n => n && n.startsWith('gi_'))")
    gi = {name.removeprefix("gi_"): submitted_value(form, name) for name in set(symptoms)}
    page.get_by_role("button", name="Save today's diary").click()
    saved_note = page.get_by_role("status").filter(has_text="Saved")
    expect(saved_note).to_be_visible()
    page.wait_for_load_state("load")
    expect(saved_note).to_be_in_viewport()  # the patient sees it without scrolling
    tab.shot("diary-saved")
    assert_clean(tab)

    with server.bearer("pat_a") as api:
        answer = api.get(f"/api/v1/patients/{server.patients['pat_a']}/diary/{today}")
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    assert saved["pain"] == 6
    assert saved["pain_sites"] == ["lower_back", "abdomen"]
    assert saved["bristol"] == 4
    assert {k: v for k, v in saved["gi_symptoms"].items() if v} == {"bloating": 3}
    assert saved["gi_symptoms"] == {k: int(v) for k, v in gi.items() if v is not None}
    assert saved["fibre_servings"] == 2
    assert saved["probiotic_taken"] is True
    assert saved["stress"] == 5
    assert saved["sleep_hours"] == 7
    for name in ("fermented_servings", "ultra_processed_servings", "added_sugar_g",
                 "exercise_minutes", "sleep_quality"):
        assert saved[name] == _number(untouched[name]), name
    assert (saved["notes"] or None) == untouched["notes"]


# ---- c) a clinician's timeline and a new intervention ----

def _found(tree: Any, match: Callable[[dict[str, Any]], bool]) -> bool:
    if isinstance(tree, dict):
        return match(tree) or any(_found(v, match) for v in tree.values())
    if isinstance(tree, list):
        return any(_found(v, match) for v in tree)
    return False


def test_clinician_opens_the_timeline_starts_and_stops_an_intervention(
        tabs: Callable[..., Tab], server: ClinicServer) -> None:
    from playwright.sync_api import expect

    patient = server.patients["pat_a"]
    today = _today()
    with server.bearer("pat_a") as api:  # today's diary point (as scenario b enters it)
        answer = api.put(f"/api/v1/patients/{patient}/diary/{today}", json={
            "pain": 6, "pain_sites": ["lower_back", "abdomen"], "bristol": 4,
            "gi_symptoms": {"bloating": 3}, "fibre_servings": 2, "probiotic_taken": True,
            "stress": 5, "sleep_hours": 7})
        assert answer.status_code == 200, answer.text
    tab = tabs()
    page = tab.page
    tab.log_in("doc")
    assert tab.path() == "/clinic/patients"
    expect(page.get_by_role("link", name=PATIENT_B)).to_be_visible()
    tab.shot("patient-list")
    with page.expect_navigation():
        page.get_by_role("link", name=PATIENT_A).click()
    assert tab.path() == f"/clinic/patients/{patient}"
    expect(page.locator("h1")).to_contain_text(PATIENT_A)
    chart = page.locator('svg[aria-label="Pain and scores over time"]')
    expect(chart).to_be_visible()
    titles = chart.locator("circle title").all_text_contents()
    assert any(re.search(rf"{today}: 6$", t) for t in titles), titles
    tab.shot("timeline")

    section = page.locator("section#interventions")
    form = section.locator("form#intervention-form")
    set_field(form, "type", PROBIOTIC["type"])
    set_field(form, "product", PROBIOTIC["product"])
    set_field(form, "dose", PROBIOTIC["dose"])
    set_field(form, "dose_unit", PROBIOTIC["dose_unit"])
    set_field(form, "start", today.isoformat())
    tab.shot("intervention-filled")
    form.get_by_role("button", name="Start intervention").click()
    expect(section).to_contain_text(PROBIOTIC["product"])
    page.wait_for_load_state("load")
    expect(section.get_by_role("button", name="Stop")).to_have_count(1)
    periods = chart.locator("rect.period title").all_text_contents()  # shaded on the timeline
    assert any(PROBIOTIC["product"] in p and str(today) in p for p in periods), periods
    tab.shot("intervention-listed")
    assert_clean(tab)

    with server.bearer("doc") as api:
        listed = api.get(f"/api/v1/patients/{patient}/interventions")
        timeline = api.get(f"/api/v1/patients/{patient}/timeline")
    assert listed.status_code == 200, listed.text
    assert timeline.status_code == 200, timeline.text
    assert _found(listed.json(), _is_the_probiotic(today)), listed.text
    assert _found(timeline.json(), lambda d: d.get("product") == PROBIOTIC["product"]
                  and str(d.get("start", "")).startswith(today.isoformat())), timeline.text

    # ... and stops it (the Stop form's date is today unless changed)
    stop_form = section.locator("form").filter(has=page.get_by_role("button", name="Stop"))
    expect(stop_form.locator('[name="stop"]')).to_have_value(today.isoformat())
    stop_form.get_by_role("button", name="Stop").click()
    expect(section.get_by_role("button", name="Stop")).to_have_count(0)
    page.wait_for_load_state("load")
    expect(section).to_contain_text(PROBIOTIC["product"])
    tab.shot("intervention-stopped")
    assert_clean(tab)
    with server.bearer("doc") as api:
        listed = api.get(f"/api/v1/patients/{patient}/interventions")
    assert _found(listed.json(), _is_the_probiotic(today, stop=today)), listed.text


def _is_the_probiotic(start: dt.date,
                      stop: dt.date | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(d: dict[str, Any]) -> bool:
        return (d.get("type") == "probiotic" and d.get("product") == PROBIOTIC["product"]
                and float(d.get("dose") or 0) == 10.0
                and d.get("dose_unit") == PROBIOTIC["dose_unit"]
                and str(d.get("start", "")).startswith(start.isoformat())
                and (d.get("stop") is None if stop is None
                     else str(d.get("stop")).startswith(stop.isoformat())))
    return match


# ---- d, e) denied pages ----

def test_patient_a_is_denied_patient_b_and_the_patient_list(
        tabs: Callable[..., Tab], server: ClinicServer) -> None:
    from playwright.sync_api import expect

    other = server.patients["pat_b"]
    tab = tabs(viewport=PHONE, is_mobile=True, has_touch=True)
    tab.log_in("pat_a")
    for path, step in ((f"/clinic/patients/{other}", "other-patient"),
                       ("/clinic/patients", "patient-list")):
        tab.goto(path, status=403)
        expect(tab.page.locator("h1")).to_have_text("Access denied")
        assert PATIENT_B not in tab.page.content()
        tab.shot(f"denied-{step}")
    assert_clean(tab)
    denials = server.denials("pat_a")
    assert any(d["patient_id"] == other or d["resource"] == f"/clinic/patients/{other}"
               for d in denials), denials
    assert any(d["resource"] == "/clinic/patients" for d in denials), denials


def test_researcher_is_denied_a_patient_page(
        tabs: Callable[..., Tab], server: ClinicServer) -> None:
    from playwright.sync_api import expect

    patient = server.patients["pat_a"]
    tab = tabs()
    tab.log_in("res")
    tab.goto(f"/clinic/patients/{patient}", status=403)
    expect(tab.page.locator("h1")).to_have_text("Access denied")
    content = tab.page.content()
    assert PATIENT_A not in content and "pat_a@example.org" not in content
    tab.shot("denied-patient-page")
    assert_clean(tab)
    assert any(d["patient_id"] == patient or d["resource"] == f"/clinic/patients/{patient}"
               for d in server.denials("res")), server.denials("res")


# ---- a, f) each role's home and every page it reaches by its links ----

#: Pages visited per role at most (each path once, whatever its query string).
CRAWL_LIMIT = 25
NOT_PAGES = ("/api/", "/static/", "/logout", "/login")
#: Questionnaires scheduled for the patient before the crawl (PEG-3; PSQI has clock times).
SCHEDULED = ("peg@2009", "psqi@1989")


@pytest.mark.parametrize("username", ["pat_a", "doc", "res", "adm"])
def test_every_page_a_role_reaches_by_its_links_loads_clean(
        tabs: Callable[..., Tab], server: ClinicServer, username: str) -> None:
    """Logging in lands on the role's home page; from there, every link to another page of
    the app is followed (breadth first): each answers 200 and logs no console error, CSP
    violation or failed request. The patient has two questionnaires due (a short one and one
    with clock-time items), so their reminders and forms are among the pages."""
    if username == "pat_a":
        with server.bearer("doc") as api:
            for instrument in SCHEDULED:
                made = api.post(f"/api/v1/patients/{server.patients['pat_a']}/questionnaires/"
                                "schedules", json={"instrument": instrument, "every_days": 7,
                                                   "first_due": _today().isoformat()})
                assert made.status_code in (200, 201), made.text
    tab = tabs()
    tab.log_in(username)
    assert tab.path() == HOME[ACCOUNTS[username][0]]  # the role's home (its status: below)
    queue, seen = [tab.path()], set[str]()
    while queue and len(seen) < CRAWL_LIMIT:
        target = queue.pop(0)
        path = target.split("?", 1)[0]
        if path in seen:
            continue
        seen.add(path)
        tab.goto(target)
        tab.shot(re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home")
        links = tab.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for link in links:
            if not link.startswith(server.base_url + "/"):
                continue
            found = link.removeprefix(server.base_url).split("#", 1)[0]
            if (found != "/" and not found.startswith(NOT_PAGES)
                    and found.split("?", 1)[0] not in seen):
                queue.append(found)
    assert_clean(tab)
