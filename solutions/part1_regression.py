"""Reference solutions of part1_regression: gradient descent by hand, then with torch.optim and nn."""
import torch
from torch import nn


def predict_classes(scores):
    """Predicted class of each sample.

    scores: float tensor [N, C], one row of class scores per sample.
    Returns an int64 tensor [N]: the index of the largest score in each row.
    """
    return scores.argmax(dim=1)


def model(x, w, b):
    """The linear model w * x + b.

    x: float tensor of any shape; w, b: 0-dim (or broadcastable) tensors.
    Returns a tensor of x's shape.
    """
    return w * x + b


def loss_fn(y_pred, y_true):
    """Mean squared error between predictions and targets.

    y_pred, y_true: float tensors of the same shape.
    Returns a 0-dim tensor that autograd can differentiate.
    """
    squared_diffs = (y_pred - y_true) ** 2
    return squared_diffs.mean()


def training_loop(n_epochs, learning_rate, params, x, y):
    """Plain gradient descent on params = [w, b] for the linear model.

    params: float tensor [2], a leaf with requires_grad=True, updated in place.
    Each epoch: forward with `model`, `loss_fn`, backward, update under
    torch.no_grad(), zero the gradient. Prints the loss every 500 epochs.
    Returns params (the same tensor object).
    """
    for epoch in range(1, n_epochs + 1):
        w, b = params
        loss = loss_fn(model(x, w, b), y)
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
        params.grad.zero_()
        if epoch % 500 == 0:
            print(f"Epoch {epoch}, Loss {loss.item():.6f}")
    return params


def training_loop_adam(n_epochs, learning_rate, params, x, y):
    """Gradient descent on params = [w, b] with torch.optim.Adam and ReduceLROnPlateau.

    The scheduler, ReduceLROnPlateau(optimizer, 'min'), is stepped with the loss's
    value (loss.item()) once per epoch, after the optimizer. Prints the loss every 500 epochs.
    Returns params (the same tensor object).
    """
    optimizer = torch.optim.Adam([params], lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    for epoch in range(1, n_epochs + 1):
        w, b = params
        loss = loss_fn(model(x, w, b), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step(loss.item())
        if epoch % 500 == 0:
            print(f"Epoch {epoch}, Loss {loss.item():.6f}")
    return params


def training_loop_module(n_epochs, learning_rate, model, x, y):
    """Train any nn.Module with Adam, ReduceLROnPlateau(optimizer, 'min') and nn.MSELoss.

    Gradients are zeroed through the optimizer; the scheduler is stepped with the
    loss's value (loss.item()) once per epoch, after the optimizer. Prints the loss every 500 epochs.
    Returns the model.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
    criterion = nn.MSELoss()
    for epoch in range(1, n_epochs + 1):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step(loss.item())
        if epoch % 500 == 0:
            print(f"Epoch {epoch}, Loss {loss.item():.6f}")
    return model


def make_dnn():
    """The lecture's network: Linear(1, 10), ReLU, Linear(10, 10), ReLU, Linear(10, 1) in nn.Sequential."""
    return nn.Sequential(
        nn.Linear(1, 10),
        nn.ReLU(),
        nn.Linear(10, 10),
        nn.ReLU(),
        nn.Linear(10, 1),
    )


class NeuralNetwork(nn.Module):
    """make_dnn's network as an nn.Module subclass.

    Attributes: fc1 = Linear(1, 10), fc2 = Linear(10, 10), out = Linear(10, 1), relu = ReLU().
    forward: [N, 1] -> [N, 1], with ReLU after fc1 and fc2 and none after out.
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1, 10)
        self.fc2 = nn.Linear(10, 10)
        self.out = nn.Linear(10, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.out(x)


# Model answers of the free-response cells, for whoever grades them in formgrader: the source
# notebook holds them, the release never does (nbgrader replaces them).
ANSWERS = {
    "answer_argmax_dims": """
        `scores.argmax(dim=1)` has shape `[N]`: dimension 1 (the classes) is reduced away.
        Entry `i` is the index of the largest score in row `i`, i.e. the class the model
        predicts for sample `i`.
    """,
    "answer_no_grad_in_place": """
        Inside `no_grad` the update is not recorded in the graph: it is bookkeeping, not part
        of the model, and an in-place change of a leaf that requires grad is an error under
        autograd. In place keeps `params` the same leaf tensor, so it still requires grad,
        still accumulates `.grad`, and every reference to it (an optimizer, the caller) sees
        the new values. `params = params - lr * grad` would make a new non-leaf tensor.
    """,
    "answer_call_vs_forward": """
        `model(x)` goes through `nn.Module.__call__`, which runs the registered hooks (as the
        demo shows) and other bookkeeping around `forward`. Calling `forward` directly skips
        them silently.
    """,
    "answer_parameter_vs_hyperparameter": """
        Parameters (`w`, `b`, the weights of each `nn.Linear`) are learned: the optimizer
        changes them from their gradients. Hyperparameters (learning rate, number of epochs,
        layer widths) are chosen by us before training and stay fixed while it runs.
    """,
}
