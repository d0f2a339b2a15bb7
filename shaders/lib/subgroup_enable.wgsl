// subgroup_enable.wgsl: the directives of the subgroup kernels (cell_subgroup.wgsl), which must
// precede every declaration of a module; kernels/sources.ts puts this file first. Modules with it compile
// only on devices created with the 'subgroups' feature.
// subgroupAdd is called where WGSL's uniformity analysis cannot prove subgroup uniformity (a loop
// over the pairs of one subgroup, whose index comes from subgroupBroadcastFirst): every invocation
// of a subgroup takes the same path there, see cell_subgroup.wgsl.
enable subgroups;
diagnostic(off, subgroup_uniformity);
