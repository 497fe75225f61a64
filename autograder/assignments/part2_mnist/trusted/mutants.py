"""Known-wrong implementations of part2_mnist ("mutants") that its hidden checks must catch.

Each mutant replaces one solution cell of the reference notebook (its grade_id is the function or class
name) with the full cell `source`. `catches` names the checks that must fail; `may_also_fail` names checks of
*other* graded cells that may fail as a consequence (only the end-to-end `mnist_accuracy` for MNISTModel and train_epoch
mutants).
Checks of the mutated function's own graded cell that are not in `catches` may fail or pass.
tests/test_mutants.py grades every one (autograder/assignments/catalog.py).
"""
from __future__ import annotations

from ...catalog import Mutant, mutant

P2 = "part2_mnist"

# The end-to-end accuracy check, which a wrong MNISTModel or train_epoch may also fail.
ACCURACY = {"mnist_accuracy"}

MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ part 2: compute_mean_std
    mutant("ms_mean_of_image_stds", P2, "compute_mean_std", """
        def compute_mean_std(dataset):
            means = torch.stack([img.mean() for img, _ in dataset])
            stds = torch.stack([img.std() for img, _ in dataset])
            return means.mean().reshape(1), stds.mean().reshape(1)
        """, {"mean_std_values"}),
    mutant("ms_std_of_image_means", P2, "compute_mean_std", """
        def compute_mean_std(dataset):
            means = torch.stack([img.mean() for img, _ in dataset])
            return means.mean().reshape(1), means.std().reshape(1)
        """, {"mean_std_values"}),
    mutant("ms_per_image", P2, "compute_mean_std", """
        def compute_mean_std(dataset):
            imgs = torch.stack([img for img, _ in dataset])
            return imgs.mean(dim=(1, 2, 3)), imgs.std(dim=(1, 2, 3))
        """, {"mean_std_values", "mean_std_shape"}),
    mutant("ms_zero_dim", P2, "compute_mean_std", """
        def compute_mean_std(dataset):
            imgs = torch.stack([img for img, _ in dataset])
            return imgs.mean(), imgs.std()
        """, {"mean_std_shape"}),
    # ------------------------------------------------------------------ part 2: normalize
    mutant("norm_mean_std_swapped", P2, "normalize", """
        def normalize(images, mean, std):
            mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
            std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
            return (images - std) / mean
        """, {"normalize_single_image", "normalize_batch"}),
    mutant("norm_divide_first", P2, "normalize", """
        def normalize(images, mean, std):
            mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
            std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
            return images / std - mean
        """, {"normalize_single_image", "normalize_batch", "normalize_half_maps_to_unit_range"}),
    mutant("norm_batch_only", P2, "normalize", """
        def normalize(images, mean, std):
            mean = torch.as_tensor(mean, dtype=images.dtype).view(1, -1, 1, 1)
            std = torch.as_tensor(std, dtype=images.dtype).view(1, -1, 1, 1)
            return (images - mean) / std
        """, {"normalize_single_image", "normalize_half_maps_to_unit_range"}),
    mutant("norm_no_channel_axis", P2, "normalize", """
        def normalize(images, mean, std):
            return (images - torch.as_tensor(mean)) / torch.as_tensor(std)
        """, {"normalize_single_image", "normalize_batch"}),
    # ------------------------------------------------------------------ part 2: make_transform
    mutant("tf_normalize_before_to_tensor", P2, "make_transform", """
        def make_transform(mean, std):
            return transforms.Compose([transforms.Normalize(mean, std), transforms.ToTensor()])
        """, {"make_transform_output"}),
    mutant("tf_arguments_swapped", P2, "make_transform", """
        def make_transform(mean, std):
            return transforms.Compose([transforms.ToTensor(), transforms.Normalize(std, mean)])
        """, {"make_transform_output"}),
    mutant("tf_no_normalize", P2, "make_transform", """
        def make_transform(mean, std):
            return transforms.Compose([transforms.ToTensor()])
        """, {"make_transform_output"}),
    # ------------------------------------------------------------------ part 2: binary_cross_entropy
    mutant("bce_lecture_sign_slip", P2, "binary_cross_entropy", """
        def binary_cross_entropy(p, y):
            log_p = torch.clamp(torch.log(p), min=-100)
            log_not_p = torch.clamp(torch.log(1 - p), min=-100)
            return -(y * log_p - (1 - y) * log_not_p).mean()
        """, {"bce_values", "bce_gradient", "bce_finite_at_extremes"}),
    mutant("bce_no_clamp", P2, "binary_cross_entropy", """
        def binary_cross_entropy(p, y):
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """, {"bce_finite_at_extremes"}),
    mutant("bce_sum", P2, "binary_cross_entropy", """
        def binary_cross_entropy(p, y):
            log_p = torch.clamp(torch.log(p), min=-100)
            log_not_p = torch.clamp(torch.log(1 - p), min=-100)
            return -(y * log_p + (1 - y) * log_not_p).sum()
        """, {"bce_values", "bce_gradient"}),
    # ------------------------------------------------------------------ part 2: MNISTModel
    mutant("mm_softmax_in_forward", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 512)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(512, 10)

            def forward(self, x):
                x = x.reshape(x.shape[0], -1)
                return torch.softmax(self.fc2(self.relu(self.fc1(x))), dim=1)
        """, {"mnist_model_logits"}, ACCURACY),
    mutant("mm_no_relu", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 512)
                self.fc2 = nn.Linear(512, 10)

            def forward(self, x):
                x = x.reshape(x.shape[0], -1)
                return self.fc2(self.fc1(x))
        """, {"mnist_model_logits"}, ACCURACY),
    mutant("mm_squeeze_then_flatten", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 512)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(512, 10)

            def forward(self, x):
                x = x.squeeze().flatten(1)
                return self.fc2(self.relu(self.fc1(x)))
        """, {"mnist_model_flattens_any_batch"}, ACCURACY),
    mutant("mm_view_fixed_batch", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 512)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(512, 10)

            def forward(self, x):
                x = x.view(64, 784)
                return self.fc2(self.relu(self.fc1(x)))
        """, {"mnist_model_logits", "mnist_model_flattens_any_batch"}, ACCURACY),
    mutant("mm_hidden_256", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                x = x.reshape(x.shape[0], -1)
                return self.fc2(self.relu(self.fc1(x)))
        """, {"mnist_model_architecture", "mnist_model_logits"}, ACCURACY),
    # ------------------------------------------------------------------ part 2: make_loaders
    mutant("ml_shuffles_test", P2, "make_loaders", """
        def make_loaders(train_set, test_set, batch_size=64):
            return (DataLoader(train_set, batch_size=batch_size, shuffle=True),
                    DataLoader(test_set, batch_size=batch_size, shuffle=True))
        """, {"make_loaders_keeps_test_order"}),
    mutant("ml_train_not_shuffled", P2, "make_loaders", """
        def make_loaders(train_set, test_set, batch_size=64):
            return (DataLoader(train_set, batch_size=batch_size),
                    DataLoader(test_set, batch_size=batch_size))
        """, {"make_loaders_shuffles_training"}),
    mutant("ml_ignores_batch_size", P2, "make_loaders", """
        def make_loaders(train_set, test_set, batch_size=64):
            return (DataLoader(train_set, batch_size=64, shuffle=True),
                    DataLoader(test_set, batch_size=64, shuffle=False))
        """, {"make_loaders_keeps_test_order"}),
    mutant("ml_drop_last", P2, "make_loaders", """
        def make_loaders(train_set, test_set, batch_size=64):
            return (DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=True),
                    DataLoader(test_set, batch_size=batch_size, shuffle=False, drop_last=True))
        """, {"make_loaders_shuffles_training", "make_loaders_keeps_test_order"}),
    # ------------------------------------------------------------------ part 2: train_epoch
    mutant("te_no_zero_grad", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            total_loss, count = 0.0, 0
            for images, labels in loader:
                loss = loss_fn(model(images), labels)
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(labels)
                count += len(labels)
            return total_loss / count
        """, {"train_epoch_updates_like_reference"}, ACCURACY),
    mutant("te_no_step", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            total_loss, count = 0.0, 0
            for images, labels in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(images), labels)
                loss.backward()
                total_loss += loss.item() * len(labels)
                count += len(labels)
            return total_loss / count
        """, {"train_epoch_updates_like_reference", "train_epoch_returns_mean_loss"}, ACCURACY),
    mutant("te_returns_last_batch_loss", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            for images, labels in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(images), labels)
                loss.backward()
                optimizer.step()
            return loss.item()
        """, {"train_epoch_returns_mean_loss"}, ACCURACY),
    mutant("te_mean_of_batch_means", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            total_loss = 0.0
            for images, labels in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(images), labels)
                loss.backward()
                optimizer.step()
                total_loss += loss.item()
            return total_loss / len(loader)
        """, {"train_epoch_returns_mean_loss"}, ACCURACY),
    mutant("te_returns_graph_tensor", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            total_loss, count = 0.0, 0
            for images, labels in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(images), labels)
                loss.backward()
                optimizer.step()
                total_loss += loss * len(labels)  # a tensor: keeps every batch's graph alive
                count += len(labels)
            return total_loss / count
        """, {"train_epoch_returns_a_python_float"}),
    # ------------------------------------------------------------------ part 2: validate
    mutant("val_divides_by_batches", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, accuracy = 0.0, 0.0
            with torch.no_grad():
                for images, labels in loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item()
                    accuracy += (outputs.argmax(dim=1) == labels).float().mean().item()
            model.train()
            return total_loss / len(loader), accuracy / len(loader)
        """, {"validate_loss_and_accuracy"}),
    mutant("val_skips_last_partial_batch", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            with torch.no_grad():
                for images, labels in loader:
                    if len(labels) < loader.batch_size:
                        break
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * len(labels)
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += len(labels)
            model.train()
            return total_loss / count, correct / count
        """, {"validate_loss_and_accuracy"}),
    mutant("val_counts_full_batches", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            with torch.no_grad():
                for images, labels in loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * loader.batch_size
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += loader.batch_size
            model.train()
            return total_loss / count, correct / count
        """, {"validate_loss_and_accuracy"}),
    mutant("val_train_mode", P2, "validate", """
        def validate(model, loader, loss_fn):
            total_loss, correct, count = 0.0, 0, 0
            with torch.no_grad():
                for images, labels in loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * len(labels)
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += len(labels)
            return total_loss / count, correct / count
        """, {"validate_uses_eval_mode"}),
    mutant("val_builds_graph", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            for images, labels in loader:
                outputs = model(images)
                total_loss += loss_fn(outputs, labels).item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            model.train()
            return total_loss / count, correct / count
        """, {"validate_builds_no_graph"}),
    # Memoisers (issue 20): a cache keyed on what validate can see of the model (its parameters) or of the
    # loader (its first batch) used to return the plain model's result for the dropout and grad-mode models.
    mutant("val_memoises_by_parameters_no_eval", P2, "validate", """
        _results = {}

        def validate(model, loader, loss_fn):
            key = tuple(round(p.detach().sum().item(), 4) for p in model.parameters())
            if key not in _results:
                total_loss, correct, count = 0.0, 0, 0
                with torch.no_grad():
                    for images, labels in loader:
                        outputs = model(images)
                        total_loss += loss_fn(outputs, labels).item() * len(labels)
                        correct += (outputs.argmax(dim=1) == labels).sum().item()
                        count += len(labels)
                _results[key] = (total_loss / count, correct / count)
            return _results[key]
        """, {"validate_uses_eval_mode"}),
    mutant("val_memoises_by_data_no_grad", P2, "validate", """
        _results = {}

        def validate(model, loader, loss_fn):
            images, _ = next(iter(loader))
            key = (round(images.sum().item(), 3),
                   tuple(round(p.detach().sum().item(), 4) for p in model.parameters())[-2:])
            if key not in _results:
                model.eval()
                total_loss, correct, count = 0.0, 0, 0
                for images, labels in loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * len(labels)
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += len(labels)
                model.train()
                _results[key] = (total_loss / count, correct / count)
            return _results[key]
        """, {"validate_builds_no_graph"}),
    mutant("val_steps_optimizer", P2, "validate", """
        def validate(model, loader, loss_fn):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            for images, labels in loader:
                optimizer.zero_grad()
                outputs = model(images)
                loss = loss_fn(outputs, labels)
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(labels)
                correct += (outputs.argmax(dim=1) == labels).sum().item()
                count += len(labels)
            model.train()
            return total_loss / count, correct / count
        """, {"validate_builds_no_graph", "validate_leaves_parameters_unchanged"}),
    mutant("val_leaves_eval_mode", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            with torch.no_grad():
                for images, labels in loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * len(labels)
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += len(labels)
            return total_loss / count, correct / count
        """, {"validate_restores_train_mode"}),
    mutant("val_loops_over_train_loader", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.eval()
            total_loss, correct, count = 0.0, 0, 0
            with torch.no_grad():
                for images, labels in train_loader:
                    outputs = model(images)
                    total_loss += loss_fn(outputs, labels).item() * len(labels)
                    correct += (outputs.argmax(dim=1) == labels).sum().item()
                    count += len(labels)
            model.train()
            return total_loss / count, correct / count
        """, {"validate_loss_and_accuracy"}),
    # ------------------------------------------------------------------ part 2: training_loop
    mutant("loop_returns_tensors", P2, "training_loop", """
        def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
            train_losses, val_losses, accuracies = [], [], []
            for epoch in range(epochs):
                train_loss = train_epoch(model, train_loader, optimizer, loss_fn)
                val_loss, accuracy = validate(model, val_loader, loss_fn)
                train_losses.append(torch.tensor(train_loss, requires_grad=True) * 1.0)
                val_losses.append(torch.tensor(val_loss))
                accuracies.append(torch.tensor(accuracy))
            return train_losses, val_losses, accuracies
        """, {"training_loop_returns_plain_numbers"}),
    mutant("loop_validate_first", P2, "training_loop", """
        def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
            train_losses, val_losses, accuracies = [], [], []
            for epoch in range(epochs):
                val_loss, accuracy = validate(model, val_loader, loss_fn)
                train_loss = train_epoch(model, train_loader, optimizer, loss_fn)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                accuracies.append(accuracy)
            return train_losses, val_losses, accuracies
        """, {"training_loop_returns_per_epoch_values"}),
    mutant("loop_one_epoch_short", P2, "training_loop", """
        def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
            train_losses, val_losses, accuracies = [], [], []
            for epoch in range(1, epochs):
                train_loss = train_epoch(model, train_loader, optimizer, loss_fn)
                val_loss, accuracy = validate(model, val_loader, loss_fn)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                accuracies.append(accuracy)
            return train_losses, val_losses, accuracies
        """, {"training_loop_returns_per_epoch_values"}),
    # ------------------------------------------------------------------ part 2: shift_pixels
    mutant("sp_dims_1_2", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.roll(t, shifts=(shift, shift), dims=(1, 2))
        """, {"shift_pixels_values"}),
    mutant("sp_dims_0_1", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.roll(t, shifts=(shift, shift), dims=(0, 1))
        """, {"shift_pixels_values"}),
    mutant("sp_wrong_direction", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.roll(t, shifts=(-shift, -shift), dims=(-2, -1))
        """, {"shift_pixels_values"}),
    mutant("sp_no_dims", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.roll(t, shift)
        """, {"shift_pixels_values"}),
    mutant("sp_rows_only", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.roll(t, shifts=shift, dims=-2)
        """, {"shift_pixels_values"}),
    # ------------------------------------------------------------------ contract only (issue #10)
    # Each honours its function's return contract (types, shapes, identities, modes) and computes
    # nothing: it earns nothing.
    mutant("contract_only_compute_mean_std", P2, "compute_mean_std", """
        def compute_mean_std(dataset):
            return torch.zeros(1), torch.ones(1)
        """, {"mean_std_values", "mean_std_shape"}),
    mutant("contract_only_normalize", P2, "normalize", """
        def normalize(images, mean, std):
            return torch.zeros_like(images)
        """, {"normalize_single_image", "normalize_batch", "normalize_half_maps_to_unit_range"}),
    mutant("normalize_ignores_mean_std", P2, "normalize", """
        def normalize(images, mean, std):
            return images * 2 - 1
        """, {"normalize_single_image", "normalize_batch", "normalize_half_maps_to_unit_range"}),
    mutant("contract_only_make_transform", P2, "make_transform", """
        def make_transform(mean, std):
            return transforms.Compose([lambda image: torch.zeros(1, image.size[1], image.size[0])])
        """, {"make_transform_output"}),
    mutant("contract_only_binary_cross_entropy", P2, "binary_cross_entropy", """
        def binary_cross_entropy(p, y):
            return (p * 0).mean()
        """, {"bce_values", "bce_finite_at_extremes", "bce_gradient"}),
    mutant("contract_only_mnist_model", P2, "MNISTModel", """
        class MNISTModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 512)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(512, 10)

            def forward(self, x):
                return torch.zeros(x.shape[0], 10) + 0 * self.fc2.bias  # a graph, so training runs
        """, {"mnist_model_architecture", "mnist_model_logits", "mnist_model_flattens_any_batch"}, ACCURACY),
    mutant("contract_only_make_loaders", P2, "make_loaders", """
        def make_loaders(train_set, test_set, batch_size=64):
            return DataLoader(train_set), DataLoader(test_set)
        """, {"make_loaders_shuffles_training", "make_loaders_keeps_test_order"}),
    mutant("contract_only_train_epoch", P2, "train_epoch", """
        def train_epoch(model, loader, optimizer, loss_fn):
            model.train()
            return 0.0
        """, {"train_epoch_updates_like_reference", "train_epoch_returns_mean_loss",
              "train_epoch_returns_a_python_float"}, ACCURACY),
    mutant("contract_only_validate", P2, "validate", """
        def validate(model, loader, loss_fn):
            model.train()
            return 0.0, 0.0
        """, {"validate_loss_and_accuracy", "validate_uses_eval_mode", "validate_builds_no_graph",
              "validate_leaves_parameters_unchanged", "validate_restores_train_mode"}),
    mutant("contract_only_training_loop_part2", P2, "training_loop", """
        def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
            return [0.0] * epochs, [0.0] * epochs, [0.0] * epochs
        """, {"training_loop_returns_per_epoch_values", "training_loop_returns_plain_numbers"}),
    mutant("contract_only_shift_pixels", P2, "shift_pixels", """
        def shift_pixels(t, shift=3):
            return torch.zeros_like(t)
        """, {"shift_pixels_values"}),
]
