"""Known-wrong submissions of part2_mnist that `make demo` grades beside the reference."""
# Student id -> (the solution cell it replaces, by grade id; the cell's new source).
KNOWN_WRONG = {
    "swapped_mean_std": ("normalize", '''def normalize(images, mean, std):
    mean = torch.as_tensor(mean, dtype=images.dtype).reshape(-1, 1, 1)
    std = torch.as_tensor(std, dtype=images.dtype).reshape(-1, 1, 1)
    return (images - std) / mean
'''),
    "softmax_logits": ("MNISTModel", '''class MNISTModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        return torch.softmax(self.fc2(self.relu(self.fc1(x.reshape(x.shape[0], -1)))), dim=1)
'''),
}
