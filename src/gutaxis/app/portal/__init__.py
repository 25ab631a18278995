"""The patient portal: the patient's own diary, questionnaires, trends and reminders."""
