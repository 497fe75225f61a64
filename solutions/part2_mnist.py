"""Reference solutions of part2_mnist: normalization, cross-entropy, an MLP and its training loop."""
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms


def compute_mean_std(dataset):
    """Mean and standard deviation over all pixels of a dataset.

    dataset: a sequence of (image, label) pairs, image a float tensor [1, 28, 28] in [0, 1].
    Returns (mean, std), each a float tensor of shape [1].
    """
    imgs = torch.stack([img for img, _ in dataset], dim=3)
    pixels = imgs.view(1, -1)
    return pixels.mean(dim=1), pixels.std(dim=1)


def normalize(images, mean, std):
    """(images - mean) / std per channel.

    images: float tensor, one image [C, H, W] or a batch [N, C, H, W].
    mean, std: numbers, or sequences / tensors with one value per channel.
    Returns a tensor of the same shape; with mean = std = 0.5, [0, 1] maps to [-1, 1].
    """
    mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
    return (images - mean) / std


def make_transform(mean, std):
    """transforms.Compose of ToTensor and Normalize(mean, std): PIL image -> normalized tensor [1, 28, 28]."""
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])


def binary_cross_entropy(p, y):
    """Mean binary cross-entropy  -[y log p + (1 - y) log(1 - p)].

    p: predicted probabilities in [0, 1]; y: targets in {0, 1}, same shape.
    Returns a 0-dim tensor, finite even where p is exactly 0 or 1 (logs are clamped at -100).
    """
    log_p = torch.clamp(torch.log(p), min=-100)
    log_not_p = torch.clamp(torch.log(1 - p), min=-100)
    return -(y * log_p + (1 - y) * log_not_p).mean()


class MNISTModel(nn.Module):
    """A 784-512-10 multilayer perceptron for 28x28 digits.

    Attributes: fc1 = Linear(784, 512), fc2 = Linear(512, 10), and a ReLU between them.
    forward: [N, 1, 28, 28] or [N, 784] -> raw logits [N, 10] (no softmax), any N >= 1.
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        return self.fc2(self.relu(self.fc1(x)))


def make_loaders(train_set, test_set, batch_size=64):
    """DataLoaders of batch_size: (train_loader shuffled, test_loader in order)."""
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=batch_size, shuffle=False)
    return train_loader, test_loader


def train_epoch(model, loader, optimizer, loss_fn):
    """One epoch of training: for each batch zero the gradients, forward, backward, step.

    Returns the mean training loss over samples (a Python float): each batch's
    loss weighted by its number of samples.
    """
    model.train()
    total_loss, count = 0.0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        count += len(labels)
    return total_loss / count


def validate(model, loader, loss_fn):
    """Evaluate without building a graph, with the model in eval mode while it runs.

    Returns (mean loss over samples, accuracy as a fraction in [0, 1]) over every
    sample of the loader, the last (smaller) batch included, as Python floats.
    The model is back in train mode afterwards.
    """
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            outputs = model(images)
            total_loss += loss_fn(outputs, labels).item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            count += len(labels)
    model.train()
    return total_loss / count, correct / count


def training_loop(model, train_loader, val_loader, optimizer, loss_fn, epochs):
    """Train for `epochs` epochs, calling train_epoch then validate once per epoch.

    Returns three lists of Python floats, one entry per epoch:
    (train_losses, val_losses, accuracies).
    """
    train_losses, val_losses, accuracies = [], [], []
    for epoch in range(1, epochs + 1):
        train_loss = train_epoch(model, train_loader, optimizer, loss_fn)
        val_loss, accuracy = validate(model, val_loader, loss_fn)
        train_losses.append(train_loss)
        val_losses.append(val_loss)
        accuracies.append(accuracy)
        print(f"Epoch {epoch}: train loss {train_loss:.4f}, val loss {val_loss:.4f}, accuracy {accuracy:.2%}")
    return train_losses, val_losses, accuracies


def shift_pixels(t, shift=3):
    """Shift an image down and right by `shift` pixels, wrapping around (torch.roll).

    t: tensor [C, H, W] or [N, C, H, W]; only the last two dims (H, W) move.
    """
    return torch.roll(t, shifts=(shift, shift), dims=(-2, -1))


# Model answers of the free-response cells, for whoever grades them in formgrader: the source
# notebook holds them, the release never does (nbgrader replaces them).
ANSWERS = {
    "answer_shifted_digits": """
        The MLP ties each weight to one pixel position, so it is not translation invariant.
        Augment the training data with random shifts (e.g. `transforms.RandomAffine`), or use
        a convolutional network, whose shared filters and pooling tolerate shifts.
    """,
    "answer_evaluation_loop": """
        It measures accuracy on the data the model was trained on, which overestimates how it
        does on new digits; evaluation must loop over held-out data (the validation or test
        loader), in eval mode and under `torch.no_grad()`.
    """,
}
