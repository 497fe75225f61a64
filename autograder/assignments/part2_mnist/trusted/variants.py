"""Correct solutions of part2_mnist written differently from the reference: each must earn full auto-graded marks.

Each variant replaces one or more solution cells (by grade_id: the function or class name) with full cell
sources. They are the things students write that a too-literal check would reject: other library calls, loops
instead of vectorized code, helpers, prints, seeds. tests/test_variants.py grades every one.
"""
from __future__ import annotations

from ...catalog import Variant, variant

P2 = "part2_mnist"

VARIANTS: list[Variant] = [
    # ------------------------------------------------------------------ part 2
    variant("p2_mean_std_loop_biased", P2,
       compute_mean_std="""
           def compute_mean_std(dataset):
               pixels = []
               for img, _ in dataset:
                   pixels.append(img.flatten())
               allpix = torch.cat(pixels)
               return allpix.mean().reshape(1), allpix.std(unbiased=False).reshape(1)
           """),
    variant("p2_mean_std_running_sums", P2,
       compute_mean_std="""
           def compute_mean_std(dataset):
               total, total_sq, n = 0.0, 0.0, 0
               for img, _ in dataset:
                   img = img.double()
                   total += img.sum()
                   total_sq += (img ** 2).sum()
                   n += img.numel()
               mean = total / n
               std = ((total_sq - n * mean ** 2) / (n - 1)).sqrt()
               return mean.float().reshape(1), std.float().reshape(1)
           """),
    variant("p2_normalize_sub_div", P2,
       normalize="""
           def normalize(images, mean, std):
               mean = torch.tensor(mean, dtype=images.dtype) if not torch.is_tensor(mean) else mean
               std = torch.tensor(std, dtype=images.dtype) if not torch.is_tensor(std) else std
               if mean.dim() == 1:
                   mean, std = mean[:, None, None], std[:, None, None]
               return images.sub(mean).div(std)
           """),
    variant("p2_normalize_torchvision_and_loop", P2,
       normalize="""
           def normalize(images, mean, std):
               return transforms.functional.normalize(images, mean, std)
           """,
       shift_pixels="""
           def shift_pixels(t, shift=3):
               return t.roll(shift, dims=t.dim() - 1).roll(shift, dims=t.dim() - 2)
           """),
    variant("p2_normalize_per_channel_loop", P2,
       normalize="""
           def normalize(images, mean, std):
               mean = torch.as_tensor(mean, dtype=images.dtype).flatten()
               std = torch.as_tensor(std, dtype=images.dtype).flatten()
               channels = []
               for c in range(images.shape[-3]):
                   m = mean[c] if mean.numel() > 1 else mean[0]
                   s = std[c] if std.numel() > 1 else std[0]
                   channels.append((images[..., c, :, :] - m) / s)
               return torch.stack(channels, dim=-3)
           """),
    variant("p2_transform_pil_to_tensor", P2,
       make_transform="""
           def make_transform(mean, std):
               steps = [transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float32),
                        transforms.Normalize(mean=mean, std=std)]
               return transforms.Compose(steps)
           """),
    variant("p2_bce_clamp_probabilities", P2,
       binary_cross_entropy="""
           def binary_cross_entropy(p, y):
               eps = 1e-7
               p = torch.clamp(p, eps, 1 - eps)
               return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
           """),
    variant("p2_bce_add_eps", P2,
       binary_cross_entropy="""
           def binary_cross_entropy(p, y):
               eps = 1e-7
               return -torch.mean(y * torch.log(p + eps) + (1 - y) * torch.log(1 - p + eps))
           """),
    variant("p2_bce_functional", P2,
       binary_cross_entropy="""
           import torch.nn.functional as F

           def binary_cross_entropy(p, y):
               return F.binary_cross_entropy(p, y)
           """),
    variant("p2_model_flatten_module_functional_relu", P2,
       MNISTModel="""
           import torch.nn.functional as F

           class MNISTModel(nn.Module):
               def __init__(self):
                   super().__init__()
                   self.flatten = nn.Flatten()
                   self.fc1 = nn.Linear(28 * 28, 512)
                   self.fc2 = nn.Linear(512, 10)

               def forward(self, x):
                   return self.fc2(F.relu(self.fc1(self.flatten(x))))
           """),
    variant("p2_model_view_and_seed", P2,
       MNISTModel="""
           class MNISTModel(nn.Module):
               def __init__(self):
                   super().__init__()
                   torch.manual_seed(42)
                   self.fc1 = nn.Linear(784, 512)
                   self.fc2 = nn.Linear(512, 10)
                   self.relu = nn.ReLU()

               def forward(self, x):
                   x = x.view(x.size(0), -1)
                   x = self.relu(self.fc1(x))
                   return self.fc2(x)
           """),
    variant("p2_model_view_minus_one_784", P2,
       MNISTModel="""
           class MNISTModel(nn.Module):
               def __init__(self):
                   super(MNISTModel, self).__init__()
                   self.fc1 = nn.Linear(784, 512)
                   self.relu = nn.ReLU()
                   self.fc2 = nn.Linear(512, 10)

               def forward(self, x):
                   return self.fc2(self.relu(self.fc1(x.reshape(-1, 784))))
           """),
    variant("p2_loaders_keywords", P2,
       make_loaders="""
           def make_loaders(train_set, test_set, batch_size=64):
               train_loader = DataLoader(dataset=train_set, shuffle=True, batch_size=batch_size)
               test_loader = DataLoader(dataset=test_set, batch_size=batch_size)
               print("batches:", len(train_loader), len(test_loader))
               return train_loader, test_loader
           """),
    variant("p2_train_epoch_model_zero_grad_dataset_len", P2,
       train_epoch="""
           def train_epoch(model, loader, optimizer, loss_fn):
               model.train()
               running = 0.0
               for batch, (x, y) in enumerate(loader):
                   model.zero_grad()
                   out = model(x)
                   loss = loss_fn(out, y)
                   loss.backward()
                   optimizer.step()
                   running += loss.item() * x.size(0)
                   if batch % 100 == 0:
                       print(f"batch {batch}: loss {loss.item():.4f}")
               return running / len(loader.dataset)
           """),
    variant("p2_train_epoch_tensor_sum", P2,
       train_epoch="""
           def train_epoch(model, loader, optimizer, loss_fn):
               model.train()
               losses, sizes = [], []
               for images, labels in loader:
                   optimizer.zero_grad()
                   loss = loss_fn(model(images), labels)
                   loss.backward()
                   optimizer.step()
                   losses.append(loss.detach() * labels.shape[0])
                   sizes.append(labels.shape[0])
               return float(torch.stack(losses).sum() / sum(sizes))
           """),
    variant("p2_validate_eq_tensor_counts", P2,
       validate="""
           def validate(model, loader, loss_fn):
               model.eval()
               total_loss = torch.tensor(0.0)
               correct = torch.tensor(0)
               total = 0
               with torch.no_grad():
                   for images, labels in loader:
                       logits = model(images)
                       total_loss += loss_fn(logits, labels) * labels.size(0)
                       correct += logits.argmax(1).eq(labels).sum()
                       total += labels.size(0)
               model.train()
               return (total_loss / total).item(), (correct / total).item()
           """),
    variant("p2_validate_inference_mode", P2,
       validate="""
           def validate(model, loader, loss_fn):
               was_training = model.training
               model.eval()
               losses, hits = [], 0
               with torch.inference_mode():
                   for images, labels in loader:
                       outputs = model(images)
                       losses.append(loss_fn(outputs, labels).item() * len(labels))
                       hits += int(sum(outputs.argmax(dim=1) == labels))
               model.train(was_training or True)
               n = len(loader.dataset)
               return sum(losses) / n, hits / n
           """),
    variant("p2_numpy_scalars", P2,
       train_epoch="""
           def train_epoch(model, loader, optimizer, loss_fn):
               import numpy as np
               model.train()
               losses, sizes = [], []
               for images, labels in loader:
                   optimizer.zero_grad()
                   loss = loss_fn(model(images), labels)
                   loss.backward()
                   optimizer.step()
                   losses.append(loss.item())
                   sizes.append(len(labels))
               return np.average(losses, weights=sizes)  # numpy.float64, a subclass of float
           """,
       validate="""
           def validate(model, loader, loss_fn):
               import numpy as np
               model.eval()
               losses, sizes, hits = [], [], []
               with torch.no_grad():
                   for images, labels in loader:
                       outputs = model(images)
                       losses.append(loss_fn(outputs, labels).item())
                       sizes.append(len(labels))
                       hits.extend((outputs.argmax(dim=1) == labels).tolist())
               model.train()
               return np.average(losses, weights=sizes), np.mean(hits)
           """),
    variant("p2_training_loop_float_enumerate", P2,
       training_loop="""
           def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
               history = {"train": [], "val": [], "acc": []}
               for epoch in range(epochs):
                   tl = train_epoch(model, train_loader, optimizer, loss_fn)
                   vl, acc = validate(model, val_loader, loss_fn)
                   history["train"].append(float(tl))
                   history["val"].append(float(vl))
                   history["acc"].append(float(acc))
                   print(epoch + 1, tl, vl, acc)
               return history["train"], history["val"], history["acc"]
           """),
    variant("p2_shift_dims_from_dim", P2,
       shift_pixels="""
           def shift_pixels(t, shift=3):
               d = t.dim()
               return torch.roll(t, shifts=[shift, shift], dims=[d - 2, d - 1])
           """),
]
