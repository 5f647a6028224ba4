"""The class board: rooms, learners and results in a real database (`store`, SQLAlchemy), and
the rules of a room (`rooms`): who may join, who posts what, how the board ranks."""
