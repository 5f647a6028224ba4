"""The one error type for outside input the playground cannot use: a link, an upload, a
picture, a data file, training settings. Its message is one line that says what was wrong
and, where there is one, the fix; pages show it as it is, and nothing else of the input."""


class Refused(ValueError):
    """Outside input that cannot be used; the message is one line for the learner."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # one line, whatever the input held
