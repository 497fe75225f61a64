"""The part1_regression notebook: the lecture's story from argmax to nn.Module, as exercises."""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode

from solutions import part1_regression as ref

from ....authoring.cells import answer, check, demo, graded, markdown, notebook, question, setup, solution
from ....config import Assignment, CourseConfig


def build(assignment: Assignment, config: CourseConfig) -> NotebookNode:
    """The source notebook of part1_regression, points taken from course_config.py."""
    pts = assignment.checks
    manual = assignment.manual

    def grade(grade_id: str, name: str) -> NotebookNode:
        return graded(grade_id, pts[grade_id], name)

    return notebook([
        markdown("""
            # Part 1: Learning from tensors by gradient descent

            In this notebook you build the lecture's examples yourself: reading class scores,
            fitting a line by plain gradient descent with autograd, then letting `torch.optim`
            and `nn.Module` do the bookkeeping.

            Fill in every cell that says `raise NotImplementedError()`. Under each one, a
            **visible check** tells you quickly whether shapes and types are right; the
            **auto-graded** cell after it is scored by a hidden suite when you submit, on
            inputs chosen at grading time. Cells marked *demo* are for you to watch your
            code at work; they are not graded, so take your time with them.
        """),
        setup("setup_imports", """
            import torch
            from torch import nn
        """),
        markdown("""
            ## 1. From scores to classes

            A classifier returns a score per class for each sample: a tensor `scores` of shape
            `[N, C]`. The predicted class of a sample is the index of its largest score.
            Implement `predict_classes` with `argmax` over the right dimension.
        """),
        solution(ref, "predict_classes"),
        check("check_predict_classes", """
            scores = torch.tensor([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
            classes = predict_classes(scores)
            assert isinstance(classes, torch.Tensor), "predict_classes must return a tensor"
            assert classes.shape == (2,), f"expected shape (2,): one class per row, got {tuple(classes.shape)}"
            assert classes.tolist() == [1, 0], f"expected classes [1, 0], got {classes.tolist()}"
            print("predict_classes: shapes and values look right")
        """),
        grade("test_predict_classes", "predict_classes"),
        question("What are the dimensions of `scores.argmax(dim=1)`, and what does each entry mean?",
                 manual["answer_argmax_dims"]),
        answer("answer_argmax_dims", manual["answer_argmax_dims"], ref.ANSWERS["answer_argmax_dims"]),
        markdown("""
            ## 2. A line, a loss, and their gradients

            We generate 100 points on [0, 1] from the line `y = 2x + 1` plus noise. The model
            is `w * x + b`, the loss the mean squared error. Implement both; autograd will
            differentiate the loss for us.
        """),
        demo("demo_line_data", """
            torch.manual_seed(0)
            x = torch.rand(100)
            y = 2 * x + 1 + 0.1 * torch.randn(100)
        """),
        solution(ref, "model"),
        check("check_model", """
            out = model(torch.tensor([0.0, 1.0, 2.0]), torch.tensor(2.0), torch.tensor(1.0))
            assert out.shape == (3,), f"model must keep x's shape (3,), got {tuple(out.shape)}"
            assert torch.allclose(out, torch.tensor([1.0, 3.0, 5.0])), f"2 * x + 1 at x = 0, 1, 2 should be 1, 3, 5, got {out.tolist()}"
            print("model: shapes and values look right")
        """),
        grade("test_model", "model"),
        solution(ref, "loss_fn"),
        check("check_loss_fn", """
            loss = loss_fn(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
            assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "loss_fn must return a 0-dim tensor"
            assert abs(loss.item() - 2.0) < 1e-6, f"the MSE of errors 0 and 2 is 2.0, got {loss.item()}"
            print("loss_fn: shape and value look right")
        """),
        grade("test_loss_fn", "loss_fn"),
        markdown("""
            ## 3. Gradient descent by hand

            `params = torch.tensor([1.0, 0.0], requires_grad=True)` holds `[w, b]`. Each epoch:
            forward, loss, `loss.backward()`, then step *against* the gradient, in place,
            inside `torch.no_grad()`, and zero the gradient for the next epoch.
            Return the very same `params` tensor.
        """),
        solution(ref, "training_loop"),
        check("check_training_loop", """
            p = torch.tensor([1.0, 0.0], requires_grad=True)
            out = training_loop(10, 0.1, p, torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0]))
            assert out is p, "training_loop must update params in place and return the same tensor"
            assert p.requires_grad and p.is_leaf, "params must stay a leaf tensor that requires grad"
            assert not torch.equal(p.detach(), torch.tensor([1.0, 0.0])), "params did not change"
            # Two epochs by hand (with your model and loss_fn): w, b = 1.35, 0.52. A gradient that is
            # never zeroed adds up over the epochs and moves them further, to 1.55, 0.82.
            p = training_loop(2, 0.1, torch.tensor([1.0, 0.0], requires_grad=True), torch.tensor([0.0, 1.0]),
                              torch.tensor([1.0, 3.0]))
            w, b = p.detach().tolist()
            assert abs(w - 1.35) < 1e-4 and abs(b - 0.52) < 1e-4, (
                f"after 2 epochs at lr 0.1 on x = [0, 1], y = [1, 3], [w, b] should be [1.35, 0.52], got {[w, b]}"
                + ("; that is the result of a gradient that is never zeroed: call params.grad.zero_() after "
                   "each update" if abs(w - 1.55) < 1e-3 and abs(b - 0.82) < 1e-3 else ""))
            print("training_loop: returns the same tensor, updated as two epochs by hand")
        """),
        grade("test_training_loop", "training_loop"),
        demo("demo_fit_line", """
            import matplotlib.pyplot as plt

            params = training_loop(5000, 1e-2, torch.tensor([1.0, 0.0], requires_grad=True), x, y)
            w, b = params.detach()
            plt.scatter(x, y, s=8, label="data")
            xs = torch.linspace(0, 1, 50)
            plt.plot(xs, model(xs, w, b), color="C1", label=f"fit: {w:.2f} x + {b:.2f}")
            plt.legend()
            plt.show()
        """),
        question("Why does the update run inside `torch.no_grad()`, and why in place?",
                 manual["answer_no_grad_in_place"]),
        answer("answer_no_grad_in_place", manual["answer_no_grad_in_place"], ref.ANSWERS["answer_no_grad_in_place"]),
        markdown("""
            ## 4. Let `torch.optim` do the update

            Same problem, now with `torch.optim.Adam` and a learning-rate scheduler,
            `ReduceLROnPlateau(optimizer, 'min')`, stepped once per epoch, after the
            optimizer, with the loss's value: `scheduler.step(loss.item())` (the scheduler
            only reads the number; handing it the tensor makes PyTorch warn).
        """),
        solution(ref, "training_loop_adam"),
        check("check_training_loop_adam", """
            p = torch.tensor([1.0, 0.0], requires_grad=True)
            out = training_loop_adam(10, 0.1, p, torch.tensor([0.0, 1.0]), torch.tensor([1.0, 3.0]))
            assert out is p, "training_loop_adam must return the params tensor it was given"
            assert not torch.equal(p.detach(), torch.tensor([1.0, 0.0])), "params did not change"
            print("training_loop_adam: returns the same, updated tensor")
        """),
        grade("test_training_loop_adam", "training_loop_adam"),
        markdown("""
            ## 5. Networks as `nn.Module`s

            A line cannot fit data whose labels flip at x = 0.5. A small network can. Write a
            training loop for any `nn.Module` (Adam, `ReduceLROnPlateau`, `nn.MSELoss`, zeroing
            gradients through the optimizer), then the lecture's network twice: with
            `nn.Sequential` and as an `nn.Module` subclass.
        """),
        solution(ref, "training_loop_module"),
        check("check_training_loop_module", """
            net = nn.Linear(1, 1)
            before = net.weight.detach().clone()
            out = training_loop_module(5, 0.1, net, torch.rand(8, 1), torch.rand(8, 1))
            assert out is net, "training_loop_module must return the model it trained"
            assert not torch.equal(net.weight.detach(), before), "the model's weights did not change"
            print("training_loop_module: trains and returns the model")
        """),
        grade("test_training_loop_module", "training_loop_module"),
        solution(ref, "make_dnn"),
        check("check_make_dnn", """
            dnn = make_dnn()
            assert isinstance(dnn, nn.Sequential), "make_dnn must return an nn.Sequential"
            assert dnn(torch.rand(4, 1)).shape == (4, 1), "the network maps [N, 1] to [N, 1]"
            print("make_dnn: the network maps [N, 1] to [N, 1]")
        """),
        grade("test_make_dnn", "make_dnn"),
        solution(ref, "NeuralNetwork"),
        check("check_neural_network", """
            net = NeuralNetwork()
            for name in ("fc1", "fc2", "out", "relu"):
                assert hasattr(net, name), f"NeuralNetwork needs an attribute {name}"
            assert net(torch.rand(4, 1)).shape == (4, 1), "NeuralNetwork maps [N, 1] to [N, 1]"
            print("NeuralNetwork: attributes and shapes look right")
        """),
        grade("test_neural_network", "NeuralNetwork"),
        demo("demo_fit_step", """
            torch.manual_seed(0)
            x_step = torch.rand(200, 1)
            y_step = (x_step > 0.5).float()
            net = training_loop_module(2000, 1e-2, NeuralNetwork(), x_step, y_step)
            xs = torch.linspace(0, 1, 200).unsqueeze(1)
            plt.scatter(x_step, y_step, s=8, label="data")
            with torch.no_grad():
                plt.plot(xs, net(xs), color="C1", label="network")
            plt.legend()
            plt.show()
        """),
        demo("demo_forward_hook", """
            hooked = NeuralNetwork()
            calls = []
            handle = hooked.register_forward_hook(lambda module, inputs, output: calls.append("hook"))
            hooked(torch.rand(4, 1))
            print("model(x) ran the hook:", calls)
            calls.clear()
            hooked.forward(torch.rand(4, 1))
            print("model.forward(x) ran the hook:", calls)
            handle.remove()
        """),
        question("Why should you call `model(x)` rather than `model.forward(x)`?",
                 manual["answer_call_vs_forward"]),
        answer("answer_call_vs_forward", manual["answer_call_vs_forward"], ref.ANSWERS["answer_call_vs_forward"]),
        question("What is the difference between a parameter and a hyperparameter?",
                 manual["answer_parameter_vs_hyperparameter"]),
        answer("answer_parameter_vs_hyperparameter", manual["answer_parameter_vs_hyperparameter"],
               ref.ANSWERS["answer_parameter_vs_hyperparameter"]),
    ])
