def generate(db, seed):
    raise NotImplementedError
