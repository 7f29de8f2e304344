"""The use cases (apply, restore, doctor, verify, all users): paths and models in, results out; never click."""
