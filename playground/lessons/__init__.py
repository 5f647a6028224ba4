"""Lessons as plain data: the file format teachers write (`format`, `step_settings`), the
lesson itself (`lesson`), where the deployment's lessons are (`library`), and the goals,
checked against what a training measured (`goals`)."""
