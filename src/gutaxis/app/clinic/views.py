"""What the patient page and the report show, read in one session: identity, timeline
and its charts, interventions, gut-health panels, latest labs, evaluations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from sqlalchemy.orm import Session

from gutaxis.app.clinic import panels
from gutaxis.app.clinic import timeline as tl
from gutaxis.app.db.models import Intervention, Patient
from gutaxis.app.interventions import service as interventions
from gutaxis.app.interventions.evaluation import Evaluation, evaluate
from gutaxis.app.patients.flags import patient_today
from gutaxis.app.patients.service import has_account, identity
from gutaxis.app.web.charts import Chart, Line, Period, svg_chart
from gutaxis.data.interventions import INTERVENTION_TYPES


def patient_page(session: Session, patient: Patient, since: dt.date | None = None,
                 until: dt.date | None = None) -> dict[str, Any]:
    """The context of the patient page (and the base of the report's)."""
    today = patient_today(patient.timezone)
    start, end = tl.window(since, until, today)
    data = tl.timeline(session, patient, start, end)
    rows = interventions.of_patient(session, patient.id)
    return {
        "patient": patient, "who": identity(session, patient.id), "today": today,
        "has_account": has_account(session, patient.id),
        "since": start, "until": end, "timeline": data,
        "main_chart": tl.main_chart(data), "gi_chart": tl.gi_chart(data),
        "score_charts": tl.score_charts(data),
        "interventions": [(row, interventions.is_running(row, today)) for row in rows],
        "types": INTERVENTION_TYPES, "panels": panels.latest_panels(session, patient.id),
        "labs": panels.latest_labs(session, patient.id)}


def evaluation_chart(result: Evaluation, row: Intervention) -> Markup | None:
    """Observed pain by day, the engine's fitted segments, the intervention shaded."""
    if not result.days:
        return None
    pain = next((o for o in result.outcomes if o.outcome == "pain"), None)
    lines = [Line("Pain (diary)", result.days, result.values["pain"])]
    if pain is not None and pain.fitted:
        days = list(result.days)
        before = [v if d < row.start else None for d, v in zip(days, pain.fitted, strict=True)]
        during = [v if d >= row.start else None for d, v in zip(days, pain.fitted, strict=True)]
        lines += [Line("Fitted before", days, before, color="#b3261e"),
                  Line("Fitted during", days, during, color="#b3261e")]
    return svg_chart(Chart(lines=lines, title=f"Pain before and during {row.product}",
                           y_label="pain NRS", y_min=0, y_max=10,
                           periods=[Period(row.product, row.start, row.stop)],
                           start=result.days[0], end=result.last_day))


def evaluation_page(session: Session, patient: Patient, row: Intervention, *,
                    washout: float = 0.0) -> dict[str, Any]:
    """The context of one intervention's evaluation."""
    result = evaluate(session, row, patient_today(patient.timezone), washout=washout)
    return {"row": row, "result": result, "chart": evaluation_chart(result, row)}


def report(session: Session, patient: Patient) -> dict[str, Any]:
    """The report's context: the patient page's, every intervention's evaluation."""
    context = patient_page(session, patient)
    context["evaluations"] = [evaluation_page(session, patient, row)
                              for row, _ in context["interventions"]]
    context["generated"] = dt.datetime.now(dt.UTC)
    return context
