"""Known-wrong implementations of part1_regression ("mutants") that its hidden checks must catch.

Each mutant replaces one solution cell of the reference notebook (its grade_id is the function or class
name) with the full cell `source`. `catches` names the checks that must fail; `may_also_fail` names checks of
*other* graded cells that may fail as a consequence (none here).
Checks of the mutated function's own graded cell that are not in `catches` may fail or pass.
tests/test_mutants.py grades every one (autograder/assignments/catalog.py).
"""
from __future__ import annotations

from ...catalog import Mutant, mutant

P1 = "part1_regression"

MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ part 1: predict_classes
    mutant("pc_argmax_dim0", P1, "predict_classes", """
        def predict_classes(scores):
            return scores.argmax(dim=0)
        """, {"predict_classes_shape_and_dtype", "predict_classes_values"}),
    mutant("pc_argmax_no_dim", P1, "predict_classes", """
        def predict_classes(scores):
            return torch.argmax(scores)
        """, {"predict_classes_shape_and_dtype", "predict_classes_values"}),
    mutant("pc_max_values", P1, "predict_classes", """
        def predict_classes(scores):
            return scores.max(dim=1).values
        """, {"predict_classes_shape_and_dtype", "predict_classes_values"}),
    # ------------------------------------------------------------------ part 1: model
    mutant("model_no_bias", P1, "model", """
        def model(x, w, b):
            return w * x
        """, {"model_values", "model_broadcasts_over_x"}),
    # ------------------------------------------------------------------ part 1: loss_fn
    mutant("loss_sum", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return ((y_pred - y_true) ** 2).sum()
        """, {"loss_fn_value", "loss_fn_gradient"}),
    mutant("loss_abs", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return (y_pred - y_true).abs().mean()
        """, {"loss_fn_value", "loss_fn_gradient"}),
    mutant("loss_no_square", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return (y_pred - y_true).mean()
        """, {"loss_fn_value", "loss_fn_gradient"}),
    mutant("loss_rmse", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return torch.sqrt(((y_pred - y_true) ** 2).mean())
        """, {"loss_fn_value", "loss_fn_gradient"}),
    mutant("loss_item", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return ((y_pred - y_true) ** 2).mean().item()
        """, {"loss_fn_is_scalar", "loss_fn_gradient"}),
    mutant("loss_detached", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return torch.tensor(((y_pred - y_true) ** 2).mean().item())
        """, {"loss_fn_is_scalar", "loss_fn_gradient"}),
    # ------------------------------------------------------------------ part 1: training_loop
    mutant("tl_no_zero_grad", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                with torch.no_grad():
                    params -= learning_rate * params.grad
                if epoch % 500 == 0:
                    print(f"Epoch {epoch}, Loss {loss.item():.6f}")
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place"}),
    mutant("tl_update_outside_no_grad", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                params -= learning_rate * params.grad
                params.grad.zero_()
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("tl_detach_each_epoch", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                params = (params - learning_rate * params.grad).detach().requires_grad_()
            return params
        """, {"training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("tl_rebind_in_no_grad", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                with torch.no_grad():
                    params = params - learning_rate * params.grad
                params.requires_grad_()
            return params
        """, {"training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("tl_rebind_loses_grad", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                with torch.no_grad():
                    params = params - learning_rate * params.grad
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("tl_wrong_sign", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                with torch.no_grad():
                    params += learning_rate * params.grad
                params.grad.zero_()
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("tl_ignores_learning_rate", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                with torch.no_grad():
                    params -= params.grad
                params.grad.zero_()
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place"}),
    mutant("tl_zero_grad_before_update", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                params.grad.zero_()
                with torch.no_grad():
                    params -= learning_rate * params.grad
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    # ------------------------------------------------------------------ part 1: training_loop_adam
    mutant("adam_no_scheduler", P1, "training_loop_adam", """
        def training_loop_adam(n_epochs, learning_rate, params, x, y):
            optimizer = torch.optim.Adam([params], lr=learning_rate)
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            return params
        """, {"training_loop_adam_trajectory"}),
    mutant("adam_scheduler_before_step", P1, "training_loop_adam", """
        def training_loop_adam(n_epochs, learning_rate, params, x, y):
            optimizer = torch.optim.Adam([params], lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                optimizer.zero_grad()
                loss.backward()
                scheduler.step(loss)
                optimizer.step()
            return params
        """, {"training_loop_adam_trajectory"}),
    mutant("adam_no_zero_grad", P1, "training_loop_adam", """
        def training_loop_adam(n_epochs, learning_rate, params, x, y):
            optimizer = torch.optim.Adam([params], lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                loss.backward()
                optimizer.step()
                scheduler.step(loss)
            return params
        """, {"training_loop_adam_trajectory"}),
    mutant("adam_returns_detached_copy", P1, "training_loop_adam", """
        def training_loop_adam(n_epochs, learning_rate, params, x, y):
            optimizer = torch.optim.Adam([params], lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            for epoch in range(1, n_epochs + 1):
                w, b = params
                loss = loss_fn(model(x, w, b), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step(loss)
            return params.detach().clone()
        """, {"training_loop_adam_returns_params"}),
    # ------------------------------------------------------------------ part 1: training_loop_module
    mutant("module_no_zero_grad", P1, "training_loop_module", """
        def training_loop_module(n_epochs, learning_rate, model, x, y):
            optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            criterion = nn.MSELoss()
            for epoch in range(1, n_epochs + 1):
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                scheduler.step(loss)
            return model
        """, {"training_loop_module_trajectory"}),
    mutant("module_zero_grad_before_step", P1, "training_loop_module", """
        def training_loop_module(n_epochs, learning_rate, model, x, y):
            optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            criterion = nn.MSELoss()
            for epoch in range(1, n_epochs + 1):
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
                scheduler.step(loss)
            return model
        """, {"training_loop_module_trajectory", "training_loop_module_lowers_loss"}),
    mutant("module_zero_grad_on_criterion", P1, "training_loop_module", """
        def training_loop_module(n_epochs, learning_rate, model, x, y):
            optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
            criterion = nn.MSELoss()
            for epoch in range(1, n_epochs + 1):
                criterion.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                scheduler.step(loss)
            return model
        """, {"training_loop_module_trajectory"}),
    mutant("module_optimizer_in_loop", P1, "training_loop_module", """
        def training_loop_module(n_epochs, learning_rate, model, x, y):
            criterion = nn.MSELoss()
            for epoch in range(1, n_epochs + 1):
                optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
                scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min")
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                scheduler.step(loss)
            return model
        """, {"training_loop_module_trajectory"}),
    # ------------------------------------------------------------------ part 1: make_dnn
    mutant("dnn_missing_relu", P1, "make_dnn", """
        def make_dnn():
            return nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.Linear(10, 1))
        """, {"make_dnn_architecture", "make_dnn_forward"}),
    mutant("dnn_wrong_widths", P1, "make_dnn", """
        def make_dnn():
            return nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        """, {"make_dnn_architecture", "make_dnn_forward"}),
    mutant("dnn_relu_on_output", P1, "make_dnn", """
        def make_dnn():
            return nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1),
                                 nn.ReLU())
        """, {"make_dnn_architecture", "make_dnn_forward"}),
    mutant("dnn_sigmoid", P1, "make_dnn", """
        def make_dnn():
            return nn.Sequential(nn.Linear(1, 10), nn.Sigmoid(), nn.Linear(10, 10), nn.Sigmoid(), nn.Linear(10, 1))
        """, {"make_dnn_architecture", "make_dnn_forward"}),
    # ------------------------------------------------------------------ part 1: NeuralNetwork
    mutant("nn_relu_on_output", P1, "NeuralNetwork", """
        class NeuralNetwork(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(1, 10)
                self.fc2 = nn.Linear(10, 10)
                self.out = nn.Linear(10, 1)
                self.relu = nn.ReLU()

            def forward(self, x):
                x = self.relu(self.fc1(x))
                x = self.relu(self.fc2(x))
                return self.relu(self.out(x))
        """, {"neural_network_forward"}),
    mutant("nn_missing_relu", P1, "NeuralNetwork", """
        class NeuralNetwork(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(1, 10)
                self.fc2 = nn.Linear(10, 10)
                self.out = nn.Linear(10, 1)
                self.relu = nn.ReLU()

            def forward(self, x):
                x = self.relu(self.fc1(x))
                return self.out(self.fc2(x))
        """, {"neural_network_forward"}),
    mutant("nn_wrong_width", P1, "NeuralNetwork", """
        class NeuralNetwork(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(1, 20)
                self.fc2 = nn.Linear(20, 20)
                self.out = nn.Linear(20, 1)
                self.relu = nn.ReLU()

            def forward(self, x):
                x = self.relu(self.fc1(x))
                x = self.relu(self.fc2(x))
                return self.out(x)
        """, {"neural_network_attributes", "neural_network_forward"}),
    # ------------------------------------------------------------------ contract only (issue #10)
    # Each honours its function's return contract (types, shapes, identities, modes) and computes
    # nothing: it earns nothing.
    mutant("contract_only_predict_classes", P1, "predict_classes", """
        def predict_classes(scores):
            return torch.zeros(scores.shape[0], dtype=torch.long)
        """, {"predict_classes_shape_and_dtype", "predict_classes_values"}),
    mutant("contract_only_model", P1, "model", """
        def model(x, w, b):
            return torch.zeros_like(x)
        """, {"model_values", "model_broadcasts_over_x"}),
    mutant("contract_only_loss_fn", P1, "loss_fn", """
        def loss_fn(y_pred, y_true):
            return (y_pred * 0).sum()
        """, {"loss_fn_value", "loss_fn_is_scalar", "loss_fn_gradient"}),
    mutant("contract_only_training_loop", P1, "training_loop", """
        def training_loop(n_epochs, learning_rate, params, x, y):
            return params
        """, {"training_loop_trajectory", "training_loop_updates_params_in_place", "training_loop_lowers_loss"}),
    mutant("contract_only_training_loop_adam", P1, "training_loop_adam", """
        def training_loop_adam(n_epochs, learning_rate, params, x, y):
            return params
        """, {"training_loop_adam_trajectory", "training_loop_adam_returns_params", "training_loop_adam_lowers_loss"}),
    mutant("contract_only_training_loop_module", P1, "training_loop_module", """
        def training_loop_module(n_epochs, learning_rate, model, x, y):
            return model
        """, {"training_loop_module_trajectory", "training_loop_module_returns_model",
              "training_loop_module_lowers_loss"}),
    mutant("contract_only_make_dnn", P1, "make_dnn", """
        class Sequential(nn.Sequential):
            def forward(self, x):
                return torch.zeros(x.shape[0], 1)

        def make_dnn():
            return Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))
        """, {"make_dnn_architecture", "make_dnn_forward"}),
    mutant("contract_only_neural_network", P1, "NeuralNetwork", """
        class NeuralNetwork(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(1, 10)
                self.fc2 = nn.Linear(10, 10)
                self.out = nn.Linear(10, 1)
                self.relu = nn.ReLU()

            def forward(self, x):
                return torch.zeros(x.shape[0], 1)
        """, {"neural_network_attributes", "neural_network_forward"}),
]
