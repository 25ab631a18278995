"""My trends: the rolling mean by hand, the charts and captions of the page on both
databases, interventions shaded, scores over time, no causal wording."""

from __future__ import annotations

import datetime as dt
import re

from clinic_fixtures import Cast
from portal_html import parse

from gutaxis.app.db.models import Intervention
from gutaxis.app.portal.trends import rolling_mean

TODAY = dt.datetime.now(dt.UTC).date()


def test_rolling_mean_by_hand() -> None:
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=k) for k in range(10)]
    pain = [4, 6, None, 5, 7, None, 3, 8, None, None]
    # windows of 7 days ending each day, drawn from 4 entries on
    expected: list[float | None] = [None, None, None, None,
                                    (4 + 6 + 5 + 7) / 4, (4 + 6 + 5 + 7) / 4,
                                    (4 + 6 + 5 + 7 + 3) / 5, (6 + 5 + 7 + 3 + 8) / 5,
                                    (5 + 7 + 3 + 8) / 4, (5 + 7 + 3 + 8) / 4]
    assert rolling_mean(days, pain) == expected
    assert rolling_mean(days, pain, window=2, min_count=1) == [
        4, 5, 6, 5, 6, 7, 3, 5.5, 8, None]


def test_trends_page_draws_the_diary_scores_and_interventions(cast: Cast) -> None:
    a, client = cast.patient_a, cast.clients["pat_a"]
    entries = {TODAY - dt.timedelta(days=k): pain for k, pain in
               ((0, 3), (1, 5), (2, 4), (10, 8), (40, 9))}
    for day, pain in entries.items():
        body = {"pain": pain, "gi_symptoms": {"bloating": pain, "nausea": 1},
                "fibre_servings": 2, "sleep_hours": 7}
        assert client.put(f"/api/v1/patients/{a}/diary/{day}", json=body).status_code == 200
    with cast.clinic.state.db.write() as session:
        session.add(Intervention(patient_id=a, type="probiotic", product="L. rhamnosus GG",
                                 start=TODAY - dt.timedelta(days=12), stop=None))
        session.add(Intervention(patient_id=cast.patient_b, type="diet",
                                 product="B's low-FODMAP", start=TODAY - dt.timedelta(days=5)))
    client.post(f"/api/v1/patients/{a}/questionnaires",
                json={"instrument": "peg", "answers": {"p_average_pain": 6,
                                                       "e_enjoyment_of_life": 5,
                                                       "g_general_activity": 8}})
    response = client.get("/me/trends")
    assert response.status_code == 200
    page = parse(response.text)
    html = response.text
    for title in ("Pain each day", "Gut symptoms", "Stool form (Bristol type)",
                  "Food servings", "Sleep", "Stress and sleep quality",
                  "PEG-3 pain intensity and interference scale"):
        assert f'aria-label="{title}"' in html, title
    # 30 days: the entry of 40 days ago is out; 4 entries, pain 3, 5, 4, 8
    (pain_caption,) = [t for t in page.find(_tag="figcaption") if t.startswith("Your pain")]
    assert "Recorded on 4 of 30 days; average 5, lowest 3, highest 8." in pain_caption
    (gi_caption,) = [t for t in page.find(_tag="figcaption") if "gut symptoms" in t]
    assert "average 6, lowest 4, highest 9." in gi_caption  # bloating + nausea 1
    assert html.count('class="period"') == 7  # A's one intervention, shaded in 7 charts
    assert "L. rhamnosus GG" in html and "B&#x27;s low-FODMAP" not in html \
        and "B's low-FODMAP" not in html
    assert "PEG-3 pain intensity and interference scale: answered 1 time" in html
    wide = parse(client.get("/me/trends?days=90").text)
    (pain_90,) = [t for t in wide.find(_tag="figcaption") if t.startswith("Your pain")]
    assert "Recorded on 5 of 90 days; average 5.8, lowest 3, highest 9." in pain_90
    captions = " ".join(page.find(_tag="figcaption") + wide.find(_tag="figcaption")).lower()
    for causal in ("after", "because", "helped", "improv", "caused by", "due to", "worse"):
        assert not re.search(rf"\b{causal}", captions), causal


def test_trends_refuse_other_spans_and_other_roles(cast: Cast) -> None:
    response = cast.clients["pat_a"].get("/me/trends?days=7")
    assert response.status_code == 422 and "days" in response.text
    assert cast.clients["pat_a"].get("/me/trends?days=90").status_code == 200
    for user in ("doc", "res", "adm"):
        denied = cast.clients[user].get("/me/trends")
        assert denied.status_code == 403
        assert parse(denied.text).find(_tag="h1") == ["Access denied"]
