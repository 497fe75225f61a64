"""Correct solutions of part1_regression written differently from the reference: each must earn full auto-graded marks.

Each variant replaces one or more solution cells (by grade_id: the function or class name) with full cell
sources. They are the things students write that a too-literal check would reject: other library calls, loops
instead of vectorized code, helpers, prints, seeds. tests/test_variants.py grades every one.
"""
from __future__ import annotations

from ...catalog import Variant, variant

P1 = "part1_regression"

VARIANTS: list[Variant] = [
    # ------------------------------------------------------------------ part 1
    variant("p1_library_calls", P1,
       predict_classes="""
           def predict_classes(scores):
               return torch.max(scores, dim=1).indices
           """,
       model="""
           def model(x, w, b):
               return torch.add(torch.mul(x, w), b)
           """,
       loss_fn="""
           import torch.nn.functional as F

           def loss_fn(y_pred, y_true):
               return F.mse_loss(y_pred, y_true)
           """),
    variant("p1_argmax_last_dim_square_mean", P1,
       predict_classes="""
           def predict_classes(scores):
               return torch.argmax(scores, dim=-1)
           """,
       loss_fn="""
           def loss_fn(y_pred, y_true):
               diff = y_pred - y_true
               return torch.mean(torch.square(diff))
           """),
    variant("p1_loss_sum_over_numel", P1,
       predict_classes="""
           def predict_classes(scores):
               return scores.max(1)[1]
           """,
       loss_fn="""
           def loss_fn(y_pred, y_true):
               d = y_pred - y_true
               return (d * d).sum() / d.numel()
           """),
    variant("p1_sub_in_place_grad_none", P1,
       training_loop="""
           def training_loop(n_epochs, learning_rate, params, x, y):
               for epoch in range(n_epochs):
                   params.grad = None
                   w, b = params
                   loss = loss_fn(model(x, w, b), y)
                   loss.backward()
                   with torch.no_grad():
                       params.sub_(learning_rate * params.grad)
                   print("epoch", epoch, "loss", float(loss))
               return params
           """),
    variant("p1_data_in_place", P1,
       training_loop="""
           def training_loop(n_epochs, learning_rate, params, x, y):
               for epoch in range(1, n_epochs + 1):
                   if params.grad is not None:
                       params.grad.zero_()
                   loss = loss_fn(model(x, params[0], params[1]), y)
                   loss.backward()
                   params.data -= learning_rate * params.grad
               return params
           """),
    variant("p1_sgd_optimizer", P1,
       training_loop="""
           def training_loop(n_epochs, learning_rate, params, x, y):
               optimizer = torch.optim.SGD([params], lr=learning_rate)
               for epoch in range(1, n_epochs + 1):
                   optimizer.zero_grad()
                   w, b = params
                   loss = loss_fn(model(x, w, b), y)
                   loss.backward()
                   optimizer.step()
               return params
           """),
    variant("p1_adam_loss_item_seeded", P1,
       training_loop_adam="""
           torch.manual_seed(1234)

           def training_loop_adam(n_epochs, learning_rate, params, x, y):
               torch.manual_seed(0)
               optimizer = torch.optim.Adam([params], lr=learning_rate)
               scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min")
               for epoch in range(n_epochs):
                   optimizer.zero_grad()
                   loss = loss_fn(model(x, *params), y)
                   loss.backward()
                   optimizer.step()
                   scheduler.step(loss.item())
                   print(f"epoch {epoch}: loss {loss.item():.4f}, lr {optimizer.param_groups[0]['lr']}")
               return params
           """),
    variant("p1_module_model_zero_grad_functional", P1,
       training_loop_module="""
           import torch.nn.functional as F

           def training_loop_module(n_epochs, learning_rate, model, x, y):
               optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
               scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
               for epoch in range(n_epochs):
                   model.zero_grad()
                   loss = F.mse_loss(model(x), y)
                   loss.backward()
                   optimizer.step()
                   scheduler.step(loss)
               return model
           """),
    variant("p1_module_zero_grad_after_step", P1,
       training_loop_module="""
           def training_loop_module(n_epochs, learning_rate, model, x, y):
               optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
               scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
               loss_function = nn.MSELoss()
               optimizer.zero_grad()
               for epoch in range(n_epochs):
                   loss = loss_function(model(x), y)
                   loss.backward()
                   optimizer.step()
                   optimizer.zero_grad(set_to_none=False)
                   scheduler.step(loss)
               return model
           """),
    variant("p1_networks_built_differently", P1,
       make_dnn="""
           from collections import OrderedDict

           def _layer(n_in, n_out):
               return nn.Linear(n_in, n_out)

           def make_dnn():
               layers = [_layer(1, 10), nn.ReLU(), _layer(10, 10), nn.ReLU(), _layer(10, 1)]
               return nn.Sequential(*layers)
           """,
       NeuralNetwork="""
           import torch.nn.functional as F

           class NeuralNetwork(nn.Module):
               def __init__(self):
                   super().__init__()
                   self.relu = F.relu
                   self.out = nn.Linear(10, 1)
                   self.fc1 = nn.Linear(1, 10)
                   self.fc2 = nn.Linear(10, 10)

               def forward(self, x):
                   return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))
           """),
    variant("p1_ordered_dict_and_torch_relu", P1,
       make_dnn="""
           from collections import OrderedDict

           def make_dnn():
               return nn.Sequential(OrderedDict([
                   ("hidden1", nn.Linear(1, 10)), ("act1", nn.ReLU()),
                   ("hidden2", nn.Linear(10, 10)), ("act2", nn.ReLU()),
                   ("output", nn.Linear(10, 1)),
               ]))
           """,
       NeuralNetwork="""
           class NeuralNetwork(nn.Module):
               def __init__(self):
                   super().__init__()
                   self.fc1 = nn.Linear(1, 10)
                   self.fc2 = nn.Linear(10, 10)
                   self.out = nn.Linear(10, 1)
                   self.relu = torch.relu

               def forward(self, x):
                   h = self.relu(self.fc1(x))
                   h = self.relu(self.fc2(h))
                   return self.out(h)
           """),
]
