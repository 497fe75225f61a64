"""Known-wrong submissions of part1_regression that `make demo` grades beside the reference."""
# Student id -> (the solution cell it replaces, by grade id; the cell's new source).
KNOWN_WRONG = {
    "sum_not_mean": ("loss_fn", "def loss_fn(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum()\n"),
    "no_zero_grad": ("training_loop", '''def training_loop(n_epochs, learning_rate, params, x, y):
    for epoch in range(1, n_epochs + 1):
        w, b = params
        loss = loss_fn(model(x, w, b), y)
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params
'''),
}
