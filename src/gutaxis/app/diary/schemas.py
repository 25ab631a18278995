"""The diary day as the API and the form take it (ranges as the scales define them)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gutaxis.app.timestamps import UtcDatetime

#: Body sites a patient can mark (the 19 regions of the ACR 2010/2016 Widespread Pain
#: Index, plus the abdomen for gut pain).
PAIN_SITES: tuple[str, ...] = (
    "jaw_left", "jaw_right", "shoulder_left", "shoulder_right", "upper_arm_left",
    "upper_arm_right", "lower_arm_left", "lower_arm_right", "hip_left", "hip_right",
    "upper_leg_left", "upper_leg_right", "lower_leg_left", "lower_leg_right", "neck",
    "upper_back", "lower_back", "chest", "abdomen")

#: Gut symptoms rated 0-10 (the GSRS domains a daily diary can ask in one line each).
GI_SYMPTOMS: tuple[str, ...] = ("abdominal_pain", "bloating", "flatulence", "urgency",
                                "constipation", "diarrhoea", "nausea", "heartburn")


class DiaryDay(BaseModel):
    """One day of the diary. Pain is required; everything else may be left out."""

    model_config = ConfigDict(extra="forbid")

    pain: int = Field(ge=0, le=10, description="Average pain today, NRS 0 (none) - 10 (worst)")
    pain_sites: list[str] = Field(default_factory=list, max_length=len(PAIN_SITES),
                                  description="Where it hurt: " + ", ".join(PAIN_SITES))
    bristol: int | None = Field(None, ge=1, le=7, description="Bristol stool form type 1-7")
    gi_symptoms: dict[str, int] = Field(default_factory=dict,
                                        description="0-10 each: " + ", ".join(GI_SYMPTOMS))
    fibre_servings: float | None = Field(None, ge=0, le=50)
    fermented_servings: float | None = Field(None, ge=0, le=50)
    ultra_processed_servings: float | None = Field(None, ge=0, le=50)
    added_sugar_g: float | None = Field(None, ge=0, le=1000)
    probiotic_taken: bool | None = None
    exercise_minutes: float | None = Field(None, ge=0, le=1440)
    stress: int | None = Field(None, ge=0, le=10, description="0 (none) - 10 (extreme)")
    sleep_hours: float | None = Field(None, ge=0, le=24)
    sleep_quality: int | None = Field(None, ge=0, le=10)
    notes: str | None = Field(None, max_length=2000)

    @field_validator("pain_sites")
    @classmethod
    def _known_sites(cls, sites: list[str]) -> list[str]:
        unknown = [s for s in sites if s not in PAIN_SITES]
        if unknown:
            raise ValueError(f"unknown body site {unknown[0]!r}; expected one of "
                             + ", ".join(PAIN_SITES))
        return sorted(set(sites), key=PAIN_SITES.index)

    @field_validator("gi_symptoms")
    @classmethod
    def _known_symptoms(cls, ratings: dict[str, int]) -> dict[str, int]:
        for name, value in ratings.items():
            if name not in GI_SYMPTOMS:
                raise ValueError(f"unknown symptom {name!r}; expected one of "
                                 + ", ".join(GI_SYMPTOMS))
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
                raise ValueError(f"symptom {name!r} rated {value!r}; expected 0-10")
        return ratings


class DiaryEntryOut(DiaryDay):
    """A stored diary day."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    day: dt.date
    patient_id: int
    updated_at: UtcDatetime
