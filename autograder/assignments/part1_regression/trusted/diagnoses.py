"""The known mistake (trusted/mistakes.py) each mutant of part1_regression (trusted/mutants.py) should be diagnosed
with.

A mutant's diagnosis is right when every mistake its report names is in its set here (and it names at
least one), wrong when the report names any other, none when it names nothing. A mutant absent from
EXPECTED must get no diagnosis at all. Several ids are allowed where a mutant makes two mistakes at once.
"""
from __future__ import annotations

EXPECTED: dict[str, set[str]] = {
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
    # contract only: each computes nothing
    "contract_only_predict_classes": {"returns_zeros"},
    "contract_only_model": {"returns_zeros"},
    "contract_only_loss_fn": {"returns_zeros"},
    "contract_only_training_loop": {"params_never_change"},
    "contract_only_training_loop_adam": {"params_never_change"},
    "contract_only_training_loop_module": {"params_never_change"},
    "contract_only_make_dnn": {"returns_zeros"},
    "contract_only_neural_network": {"returns_zeros"},
}
