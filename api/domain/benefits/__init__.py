"""Support interventions: benefit policies as versioned data, and who is eligible for what."""
