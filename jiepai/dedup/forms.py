from __future__ import annotations

from django import forms

from jiepai.dedup.models import DedupPolicy


class PolicyForm(forms.ModelForm):
    class Meta:
        model = DedupPolicy
        fields = [
            "policy",
            "show_threshold",
            "act_threshold",
            "scan_threshold",
            "generic_key_count",
            "undo_days",
        ]
        widgets = {
            name: forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"})
            for name in ("show_threshold", "act_threshold", "scan_threshold")
        }

    def clean(self) -> dict:
        data = super().clean()
        for name in ("show_threshold", "act_threshold", "scan_threshold"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "0–1")
        return data
