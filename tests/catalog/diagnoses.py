"""The known mistake (each assignment's trusted/mistakes.py) each mutant of tests/catalog/mutants.py should be
diagnosed with.

A mutant's diagnosis is right when every mistake its report names is in its set here (and it names at
least one), wrong when the report names any other, none when it names nothing. A mutant absent from
EXPECTED must get no diagnosis at all. Several ids are allowed where a mutant makes two mistakes at once.
"""
from __future__ import annotations

from autograder.results import GradeReport

EXPECTED: dict[str, set[str]] = {
    # part 1
    "pc_argmax_dim0": {"argmax_wrong_dim"},
    "pc_argmax_no_dim": {"argmax_without_dim"},
    "pc_max_values": {"max_values_not_indices"},
    "model_no_bias": {"bias_missing"},
    "loss_sum": {"sum_instead_of_mean"},
    "loss_abs": {"absolute_error"},
    "loss_no_square": {"not_squared"},
    "loss_rmse": {"root_of_mse"},
    "loss_item": {"graph_lost"},
    "loss_detached": {"graph_lost"},
    "tl_no_zero_grad": {"gradients_not_zeroed"},
    "tl_update_outside_no_grad": {"update_outside_no_grad"},
    "tl_detach_each_epoch": {"rebinds_params"},
    "tl_rebind_in_no_grad": {"rebinds_params"},
    "tl_rebind_loses_grad": {"rebind_loses_grad"},
    "tl_wrong_sign": {"gradient_ascent"},
    "tl_ignores_learning_rate": {"learning_rate_ignored"},
    "tl_zero_grad_before_update": {"params_never_change"},
    "adam_no_scheduler": {"scheduler_missing"},
    "adam_scheduler_before_step": {"scheduler_before_step"},
    "adam_no_zero_grad": {"gradients_not_zeroed"},
    "adam_returns_detached_copy": {"returns_copy"},
    "module_no_zero_grad": {"gradients_not_zeroed"},
    "module_zero_grad_before_step": {"params_never_change"},
    "module_zero_grad_on_criterion": {"gradients_not_zeroed"},
    "module_optimizer_in_loop": {"optimizer_recreated"},
    "dnn_missing_relu": {"missing_relu"},
    "dnn_wrong_widths": {"layer_sizes"},
    "dnn_relu_on_output": {"relu_on_output"},
    "dnn_sigmoid": {"sigmoid_instead_of_relu"},
    "nn_relu_on_output": {"relu_on_output"},
    "nn_missing_relu": {"missing_relu"},
    "nn_wrong_width": {"layer_sizes"},
    # part 2
    "ms_mean_of_image_stds": {"mean_of_image_stds"},
    "ms_std_of_image_means": {"std_of_image_means"},
    "ms_per_image": {"per_image_statistics"},
    "ms_zero_dim": {"zero_dim_statistics"},
    "norm_mean_std_swapped": {"mean_std_swapped"},
    "norm_divide_first": {"divides_before_subtracting"},
    "norm_batch_only": {"batch_only_broadcast"},
    "norm_no_channel_axis": {"no_channel_axis"},
    "tf_normalize_before_to_tensor": {"normalize_before_to_tensor"},
    "tf_arguments_swapped": {"mean_std_swapped"},
    "tf_no_normalize": {"normalize_missing"},
    "bce_lecture_sign_slip": {"bce_sign_slip"},
    "bce_no_clamp": {"log_not_clamped"},
    "bce_sum": {"sum_instead_of_mean"},
    "mm_softmax_in_forward": {"softmax_in_forward"},
    "mm_no_relu": {"missing_relu"},
    "mm_squeeze_then_flatten": {"squeeze_drops_batch"},
    "mm_view_fixed_batch": {"fixed_batch_size"},
    "mm_hidden_256": {"layer_sizes"},
    "ml_shuffles_test": {"test_shuffled"},
    "ml_train_not_shuffled": {"train_not_shuffled"},
    "ml_ignores_batch_size": {"batch_size_ignored"},
    "ml_drop_last": {"drop_last"},
    "te_no_zero_grad": {"gradients_not_zeroed"},
    "te_no_step": {"params_never_change"},
    "te_returns_last_batch_loss": {"returns_last_batch_loss"},
    "te_mean_of_batch_means": {"mean_of_batch_means"},
    "te_returns_graph_tensor": {"returns_graph_tensor"},
    "val_divides_by_batches": {"mean_of_batch_means"},
    "val_skips_last_partial_batch": {"skips_last_batch"},
    "val_counts_full_batches": {"counts_full_batches"},
    "val_train_mode": {"eval_mode_forgotten"},
    "val_builds_graph": {"no_grad_forgotten"},
    "val_memoises_by_parameters_no_eval": {"eval_mode_forgotten"},
    "val_memoises_by_data_no_grad": {"no_grad_forgotten"},
    "val_steps_optimizer": {"validate_trains"},
    "val_leaves_eval_mode": {"train_mode_not_restored"},
    "val_loops_over_train_loader": {"uses_global_name"},
    "loop_returns_tensors": {"returns_tensors"},
    "loop_validate_first": {"validate_before_train"},
    "loop_one_epoch_short": {"one_epoch_short"},
    "sp_dims_1_2": {"roll_wrong_dims"},
    "sp_dims_0_1": {"roll_wrong_dims"},
    "sp_wrong_direction": {"roll_wrong_direction"},
    "sp_no_dims": {"roll_flattened"},
    "sp_rows_only": {"roll_one_axis"},
    # contract only: each computes nothing
    "contract_only_predict_classes": {"returns_zeros"},
    "contract_only_model": {"returns_zeros"},
    "contract_only_loss_fn": {"returns_zeros"},
    "contract_only_training_loop": {"params_never_change"},
    "contract_only_training_loop_adam": {"params_never_change"},
    "contract_only_training_loop_module": {"params_never_change"},
    "contract_only_make_dnn": {"returns_zeros"},
    "contract_only_neural_network": {"returns_zeros"},
    "contract_only_compute_mean_std": {"returns_placeholder"},
    "contract_only_normalize": {"returns_zeros"},
    "contract_only_make_transform": {"returns_zeros"},
    "contract_only_binary_cross_entropy": {"returns_zeros"},
    "contract_only_mnist_model": {"returns_zeros"},
    "contract_only_make_loaders": {"train_not_shuffled"},
    "contract_only_train_epoch": {"params_never_change"},
    "contract_only_validate": {"returns_zeros"},
    "contract_only_training_loop_part2": {"returns_zeros"},
    "contract_only_shift_pixels": {"returns_zeros"},
}


def named(report: GradeReport) -> set[str]:
    """The mistakes a report names."""
    return {c.mistake for c in report.checks if c.mistake}


def outcome(mutant_id: str, report: GradeReport) -> str:
    """'right', 'wrong' or 'none' for one mutant's report."""
    found, expected = named(report), EXPECTED.get(mutant_id, set())
    if found - expected:
        return "wrong"
    return "right" if found else "none"
