"""The server's side of training: a session's job and its state, the first-come line of
training slots, reload tickets, and the training processes (one per slot) with their
memory care. Runs playground.training, in a process of its own or on a thread.
"""
