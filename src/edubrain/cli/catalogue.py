# ruff: noqa: E501 - a catalogue: each entry on one line reads best, Chinese runs wide
"""The command line's one message catalogue: English (as written in the code) → 中文.

Keys are the English texts with their whitespace collapsed (`edubrain.cli.language.key`);
`{placeholders}` are filled after translation, so a Chinese text carries the same ones.
Words a user types stay as they are in both languages: command and option names, option values
(`open`, `county`, `same`), codes of the standard (`xueji`, `student_number`), file names.
tests/unit/test_cli_language.py fails when a text the CLI shows has no entry here.
"""

from __future__ import annotations

# ---- help texts: commands, arguments and options ---------------------------------------------
HELP_ZH: dict[str, str] = {
    "edubrain — 区域教育数据大脑: regional education data platform.": "edubrain — 区域教育数据大脑。",
    "edubrain — 区域教育数据大脑.": "edubrain — 区域教育数据大脑。",
    "Print the version.": "显示版本号。",
    # exams (the module's `edubrain exams` group)
    "考试分析: exams, score reports and CTT item analysis.": "考试分析：考试列表、成绩报告与试题分析（经典测量理论）。",
    "The exams with item scores, newest first, with how many pupils took each.": "列出有小题得分的考试，最新的在前，并给出参考人数。",
    "The score report of an exam (of a school, of a class).": "考试的成绩报告（可限定学校、班级）。",
    "CTT item analysis of an exam's paper: 难度, 区分度, point-biserial, Ebel band, α.": "试卷的试题分析：难度、区分度、点二列相关、区分度评价与信度系数。",
    "The 考试编号.": "考试编号。",
    "A 学校标识码.": "学校标识码。",
    "班号 (with --school).": "班号（与 --school 同用）。",
    "增值评价: fit school and class value-added of every exam with a prior and store it.": "增值评价：为每场有先前成绩的考试拟合学校与班级增值，并存入数据仓。",
    "Only this school year (e.g. 2025-2026); default every year.": "只计算该学年（例如 2025-2026）；默认计算所有学年。",
    # `edubrain fitness score` (cli/fitness_cmd.py)
    "体质健康: fitness scoring by the national standard.": "体质健康：按国家标准评分。",
    "体测评分: score every fitness test by the 国家学生体质健康标准 (2014) and store it.": "体测评分：按《国家学生体质健康标准（2014年修订）》为每条体测成绩评分，并存入数据仓。",
    # `edubrain health screen` (cli/health_cmd.py)
    "健康体检: health screening by the national standards.": "健康体检：按国家标准筛查。",
    "健康筛查: classify every health check by WS/T 586, WS/T 456 and screening myopia.": "健康筛查：按 WS/T 586、WS/T 456 判定每条体检记录的体重状况，并按筛查性近视判定视力。",
    # `edubrain psych screen` (cli/psych_cmd.py)
    "心理筛查: psychological screening by a scale as data.": "心理筛查：按量表文件计分与判定等级。",
    "心理筛查: score every sitting by its scale and tell the counts.": "心理筛查：按量表为每人次测评计分并判定等级，只输出人数统计。",
    # `edubrain growth score` (cli/growth_cmd.py)
    "综合素质评价: five-domain evaluation by a scheme as data.": "综合素质评价：按评价方案文件计算德智体美劳各维度得分。",
    "综合素质评价: score every pupil-term by the scheme and tell the counts.": "综合素质评价：按评价方案为每名学生每学期计分、定等级并标出成长预警，只输出人数统计。",
    # `edubrain exams scale` (cli/exams_scale_cmd.py)
    "IRT calibration (2PL, graded response or Rasch), EAP abilities, item fit, and linking of each year's paper to the base year of its grade and subject through anchor items.": "IRT 定标（双参数模型、等级反应模型或拉施模型）、EAP 能力估计和试题拟合，并经共同题（锚题）把每年的试卷等值到同年级同学科基准年的量尺。",
    "Calibrate 0/full-mark papers by the Rasch model.": "只有0分和满分的试卷按拉施模型定标。",
    "Linking method: stocking_lord (default), haebara, mean_mean or mean_sigma.": "等值方法：stocking_lord（默认）、haebara、mean_mean 或 mean_sigma。",
    "Fewest anchor items that link two papers.": "两份试卷至少要有几道共同题（锚题）才作等值。",
    "Show tracebacks instead of one-line errors.": "出错时显示完整的调用栈，而不是一行错误信息。",
    "Generate a synthetic region: source exports with faults, plus the ground truth.": (
        "生成一个合成区域：带有故障的各源系统导出文件，以及真实答案。"
    ),
    "Folder to write into (must be empty).": "写入的文件夹（必须为空）。",
    "Number of students.": "学生人数。",
    "Random seed: same seed, same bytes.": "随机种子：种子相同，生成的文件逐字节相同。",
    "Write into a non-empty folder.": "允许写入非空文件夹。",
    "Validate, normalise and load exports into the warehouse; bad rows go to quarantine.": (
        "校验、规范化导出文件并装入数据仓；有问题的行进入隔离区。"
    ),
    "Export files or folders (searched recursively).": "导出文件或文件夹（递归查找）。",
    "Read the files with this source mapping (e.g. xueji).": (
        "按此源系统映射读取文件（例如 xueji，学籍系统）。"
    ),
    "The files are standard-format (CSV or Parquet) of this entity.": (
        "文件是此实体的标准格式（CSV 或 Parquet）。"
    ),
    "Print the per-file reports as JSON.": "以 JSON 输出每个文件的报告。",
    "Show quarantined rows (file, row, field, reason, status, message), newest loads first.": (
        "显示隔离区中的行（文件、行号、字段、原因、状态、说明），最新的导入在前。"
    ),
    "Only this reason (code or name, 日期无效).": "只看此原因（代码或名称，如 日期无效）。",
    "Only files whose path contains this text.": "只看路径中包含此文字的文件。",
    "Only this entity.": "只看此实体。",
    "open (未处理: no later load accepted the row's key), resolved (已解决) or all.": (
        "open（未处理：之后的导入没有接受该行的主键）、resolved（已解决）或 all（全部）。"
    ),
    "Rows to show.": "显示的行数。",
    "Counts by file, reason and status instead.": "改为按文件、原因和状态计数。",
    "JSON on stdout.": "以 JSON 输出到标准输出。",
    "Data-quality scorecard per source × school × load (rules, dimensions, 数据互通率).": (
        "按来源 × 学校 × 批次的数据质量评分卡（规则、维度、数据互通率）。"
    ),
    "Scorecard rows: comma list of source, school, load, entity.": (
        "评分卡的分组：source（来源）、school（学校）、load（批次）、entity（实体），用逗号分隔。"
    ),
    "Drill down: the offending rows of this rule.": "下钻：违反此规则的行。",
    "With --rule: only this school's rows.": "与 --rule 一起用：只看此学校的行。",
    "With --rule: rows to show.": "与 --rule 一起用：显示的行数。",
    "List the rule catalogue.": "列出规则目录。",
    "数据互通率 per source, entity and school.": "按来源、实体和学校的数据互通率。",
    "Date (YYYY-MM-DD) timeliness is measured at; default today.": (
        "衡量及时性的日期（年-月-日）；默认今天。"
    ),
    "Generate a synthetic county, ingest all its exports, govern them, compute the indicator "
    "catalogue and its warnings, print a summary.": (
        "生成一个合成县，导入其全部导出文件并治理，计算指标目录及预警，输出汇总。"
    ),
    "Students in the county.": "全县学生人数。",
    "Random seed: same seed, same county.": "随机种子：种子相同，生成的县相同。",
    "Demo workspace; rebuilt from scratch on every run.": "演示工作区；每次运行都从头重建。",
    "Write the documents generated from code: data standard, CLI, settings, indicators, service "
    "reference (roles, permissions, endpoints), quality rules.": (
        "写出由代码生成的文档：数据标准、命令行、设置、指标、服务参考（角色、权限、接口）、质量规则。"
    ),
    "The docs folder to write into.": "写入的文档文件夹。",
    "Write nothing; exit 1 if a file is stale.": "不写文件；有文件过期时以 1 退出。",
    "Serve the cockpit (web UI at /) and the API (OpenAPI at /api/v1/docs) on "
    "EDUBRAIN_SERVICE_HOST:EDUBRAIN_SERVICE_PORT.": (
        "在 EDUBRAIN_SERVICE_HOST:EDUBRAIN_SERVICE_PORT 上提供驾驶舱（网页在 /）和接口"
        "（接口文档在 /api/v1/docs）。"
    ),
    "Bind address (default: settings).": "监听地址（默认取设置）。",
    "Port (default: settings).": "端口（默认取设置）。",
    "Server processes (default: settings; 0 = one per core).": (
        "服务进程数（默认取设置；0 表示每个处理器核一个）。"
    ),
    "The data standard (数据标准): entities, fields, code tables.": "数据标准：实体、字段、代码表。",
    "List the entities, or one entity's fields.": "列出全部实体，或一个实体的字段。",
    "Entity to show; all entities if omitted.": "要显示的实体；省略时显示全部实体。",
    "Record linkage and persistent person IDs (一人一码); `review` for the steward.": (
        "记录关联与稳定的人员标识（一人一码）；数据管理员用 review 审核。"
    ),
    "A generator truth folder: print pairwise precision/recall.": (
        "生成器的真实答案文件夹：输出成对的精确率和召回率。"
    ),
    "The steward's review queue: list doubtful links, decide them.": (
        "数据管理员的待审核队列：列出存疑的关联并作出判定。"
    ),
    "Doubtful pairs of the last run, most probable first.": "上次运行中存疑的记录对，可能性最大的在前。",
    "Record a decision; it wins on every later `edubrain govern` run.": (
        "记录一个判定；之后每次运行 edubrain govern 都以它为准。"
    ),
    "A mention key or a person ID (P…).": "一个记录键或人员标识（P…）。",
    "same | different": "same（同一人）| different（不同人）",
    "Who decides.": "判定人。",
    "Why.": "理由。",
    "Golden records (黄金记录): show one with lineage, list value conflicts, decide a value.": (
        "黄金记录：显示一条记录及其来源，列出字段冲突，判定字段值。"
    ),
    "One golden record: every field with its value, source, load, mention and deciding rule.": (
        "一条黄金记录：每个字段的值、来源、批次、原始记录和决定规则。"
    ),
    "A person ID (P…); a merged one is followed.": "人员标识（P…）；已合并的标识会跟随到合并后的人员。",
    "Fields whose sources disagree and no steward has decided (the value review queue).": (
        "来源之间不一致且尚无人判定的字段（字段值待审核队列）。"
    ),
    "Record a field's value; it beats survivorship on every later `edubrain govern` run.": (
        "记录一个字段的值；之后每次运行 edubrain govern 都优先于自动选值规则。"
    ),
    "A person ID (P…).": "人员标识（P…）。",
    "One of: student_number, name, sex, birth_date, ethnicity, id_number, school_code, "
    "grade_code, class_no.": (
        "以下之一：student_number（学籍号）、name（姓名）、sex（性别）、birth_date（出生日期）、"
        "ethnicity（民族）、id_number（身份证件号）、school_code（学校标识码）、"
        "grade_code（年级）、class_no（班号）。"
    ),
    "The value (dates as YYYY-MM-DD).": "字段值（日期写作 年-月-日，如 2018-03-05）。",
    "学情诊断: mastery per knowledge point, layered groups, next practice, fairness audit.": (
        "学情诊断：各知识点掌握度、分层分组、下一步练习、公平性审计。"
    ),
    "Fit BKT per knowledge point on the warehouse's practice responses and save the diagnosis "
    "(ingesting KNOWLEDGE_DIR first when given).": (
        "用数据仓中的练习作答，按知识点拟合知识追踪模型（BKT）并保存诊断"
        "（给出 KNOWLEDGE_DIR 时先导入它）。"
    ),
    "A knowledge folder (graph, items, practice responses) to ingest first; without it, the "
    "warehouse's are used.": (
        "先导入的知识文件夹（知识图谱、题目、练习作答）；省略时使用数据仓中已有的。"
    ),
    "Seed of the EM restarts.": "期望最大化（EM）多次重启的随机种子。",
    "A student's mastery (with uncertainty), next practice and 错题本, or a class's heatmap and "
    "layered groups (分层教学); with neither, the classes in the diagnosis.": (
        "一名学生的掌握度（含不确定度）、下一步练习和错题本，或一个班的热力图和分层分组（分层教学）；"
        "两者都不给时，列出诊断中的班级。"
    ),
    "A student number: mastery, practice, 错题本.": "学籍号：掌握度、练习、错题本。",
    "SCHOOL_CODE/GRADE/CLASS_NO: heatmap and layered groups.": (
        "学校标识码/年级/班号（SCHOOL_CODE/GRADE/CLASS_NO）：热力图和分层分组。"
    ),
    "Layers.": "分层数。",
    "Smallest layer.": "每层最少人数。",
    "Success band of recommended items, LOW,HIGH.": "推荐题目的预计答对率区间，写作 下限,上限（LOW,HIGH）。",
    "Next practice items on the weakest prerequisite-ready points, within the band.": (
        "在前置知识已具备的最薄弱知识点上，推荐答对率落在区间内的下一步练习题。"
    ),
    "Student number.": "学籍号。",
    "Items to recommend.": "推荐的题目数。",
    "Diagnosis accuracy and recommendation quality by 城乡 and sex, with the gaps.": (
        "按城乡和性别的诊断准确度与推荐质量，以及差距。"
    ),
    "Generator truth folder: compare with true mastery.": "生成器的真实答案文件夹：与真实掌握度比较。",
    "Indicators (指标): compute the official catalogue, show values, explain one value.": (
        "指标：计算官方指标目录、显示指标值、解释一个值。"
    ),
    "Compute the catalogue for a school year at every grain; store it with provenance and raise "
    "or clear warnings.": (
        "按学年在每个统计层级计算指标目录；连同来源一起保存，并发出或解除预警。"
    ),
    "School year, e.g. 2025-2026; default the latest in 学籍.": (
        "学年，如 2025-2026；默认取学籍中最新的学年。"
    ),
    "Only this indicator (repeatable).": "只算此指标（可重复）。",
    "Only this family (repeatable): balance, class_size, staffing, homework, info, data": (
        "只算此指标族（可重复）：balance（均衡）、class_size（班额）、staffing（师资）、"
        "homework（作业）、info（信息化）、data（数据）"
    ),
    "Only this family (repeatable): balance, class_size, staffing, homework, info, data, value_added, fitness, health": (
        "只算此指标族（可重复）：balance（均衡）、class_size（班额）、staffing（师资）、"
        "homework（作业）、info（信息化）、data（数据）、value_added（增值评价）、fitness（体质健康）、health（健康）"
    ),
    "Only this family (repeatable): balance, class_size, staffing, homework, info, data, value_added, fitness, health, teachers": (
        "只算此指标族（可重复）：balance（均衡）、class_size（班额）、staffing（师资）、"
        "homework（作业）、info（信息化）、data（数据）、value_added（增值评价）、fitness（体质健康）、health（健康）、"
        "teachers（教师发展）"
    ),
    "Show stored values (the latest run of each indicator), with thresholds.": (
        "显示已保存的指标值（每个指标最近一次计算）及其阈值。"
    ),
    "school, stage_county, county or city.": (
        "school（学校）、stage_county（县内学段）、county（县）或 city（市）。"
    ),
    "Only this family.": "只看此指标族。",
    "Only this school / county / city code.": "只看此学校、县或市的代码。",
    "School year; default latest.": "学年；默认最新。",
    "List the catalogue (no values).": "列出指标目录（不含指标值）。",
    "The inputs and the arithmetic of one school's value (or its county 学段's CV).": (
        "一所学校指标值（或其所在县学段的差异系数）的输入数据和计算过程。"
    ),
    "Indicator id, e.g. balance.cv.x.": "指标编号，如 balance.cv.x。",
    "The school's 学校标识码.": "学校的学校标识码。",
    "Plan targets (baseline → target, progress) and the per-county 共性要求 checklist.": (
        "规划目标（基线 → 目标、进度）和各县的共性要求清单。"
    ),
    "Warnings (预警) raised by indicator rules: list, acknowledge, resolve, history.": (
        "指标规则发出的预警：列出、认领、解除、查看历史。"
    ),
    "Warnings, most severe first.": "预警，最严重的在前。",
    "open, acknowledged or resolved (repeatable); default open and acknowledged.": (
        "open（未处理）、acknowledged（已认领）或 resolved（已解除）（可重复）；默认未处理和已认领。"
    ),
    "red, orange or yellow (repeatable).": "red（红）、orange（橙）或 yellow（黄）（可重复）。",
    "Every status.": "所有状态。",
    "Rows to print.": "输出的行数。",
    "JSON on stdout (no limit).": "以 JSON 输出到标准输出（不限行数）。",
    "open → acknowledged: someone has seen it and owns it.": (
        "未处理 → 已认领：有人已看到并负责处理。"
    ),
    "The warning's id (W…).": "预警编号（W…）。",
    "What is being done about it.": "正在采取的措施。",
    "Who; default the OS user.": "处理人；默认当前系统用户。",
    "→ resolved. If the next computation still finds the condition, it reopens.": (
        "→ 已解除。如果下次计算仍发现该情况，预警会重新打开。"
    ),
    "How it was resolved.": "如何解决的。",
    "Every event of one warning: opened, updated, acknowledged, resolved, reopened.": (
        "一条预警的全部事件：发出、更新、认领、解除、重新打开。"
    ),
    "Jobs (任务): ingest, govern, compute, scorecard and fit, queued and run one at a time.": (
        "任务：导入、治理、指标计算、质量评分卡和诊断拟合，排队后逐个运行。"
    ),
    "The latest jobs, newest first.": "最近的任务，最新的在前。",
    "Queue a job (a running `edubrain serve` starts it); with --wait, run it here.": (
        "把任务排入队列（由正在运行的 edubrain serve 启动）；加 --wait 则在此处运行。"
    ),
    "One of: ingest, govern, compute, scorecard, fit.": (
        "以下之一：ingest（导入）、govern（治理）、compute（指标计算）、scorecard（质量评分卡）、"
        "fit（诊断拟合）。"
    ),
    "Files or folders (for an ingest job).": "文件或文件夹（导入任务用）。",
    "Run it here and now, and print its outcome.": "立即在此处运行，并输出结果。",
    "Run every queued job, oldest first (the runner a service or a schedule starts).": (
        "运行队列中的全部任务，最早的在前（服务或定时计划启动的执行器）。"
    ),
    "Local accounts of the service.": "服务的本地账号。",
    "Add a local account; the password is read from EDUBRAIN_NEW_PASSWORD or a prompt.": (
        "添加本地账号；密码取自 EDUBRAIN_NEW_PASSWORD，或在提示时输入。"
    ),
    "Login name.": "登录名。",
    "One of the 12 roles.": "12 种角色之一。",
    "province|city|county|school|class|self": (
        "province（省）|city（市）|county（县）|school（学校）|class（班级）|self（本人）"
    ),
    "Region, school, class key or 学籍号s.": "行政区划、学校、班级代码或学籍号。",
    "Name shown in the UI.": "界面上显示的姓名。",
    "List accounts (never passwords).": "列出账号（从不显示密码）。",
    "The hash-chained audit trail.": "哈希链审计日志。",
    "Check the audit chain; exit 1 naming the first record that was changed or deleted.": (
        "校验审计链；发现被修改或删除的记录时以 1 退出，并指出第一条。"
    ),
    "Machine-readable result.": "机器可读的结果。",
    "Print the chain's head (seq and hash): keep it elsewhere to anchor the chain.": (
        "输出审计链的链头（序号和哈希）：另处保存，用来锚定审计链。"
    ),
    "The data key sealing ID numbers and G 学籍号 at rest (核心数据加密): show, rotate.": (
        "加密存储身份证件号和 G 学籍号的数据密钥（核心数据加密）：查看、轮换。"
    ),
    "Where the data key file is, the key id it holds, and whether it opens the warehouse.": (
        "数据密钥文件在哪里、其中的密钥编号，以及它能否打开数据仓。"
    ),
    "Seal every stored ID number and G 学籍号 under a new key, then forget the old one. The "
    "warehouse is rewritten in one transaction, then the operational store in one (its audit "
    "chain recomputed); the key file holds both keys until both are done, so an interrupted "
    "rotation is finished by running this again. The service must be stopped (it holds the "
    "warehouse). Values left in clear by an older version are sealed on the way.": (
        "用新密钥重新加密所有已保存的身份证件号和 G 学籍号，然后删除旧密钥。数据仓在一个事务中重写，"
        "业务库在另一个事务中重写（并重算审计链）；两者都完成前密钥文件同时保存新旧密钥，"
        "所以中断的轮换再运行一次即可完成。必须先停止服务（它占用数据仓）。"
        "旧版本留下的明文值会顺带加密。"
    ),
    "Who rotates (for the audit trail).": "轮换人（记入审计日志）。",
    "A city bureau's list: the city's warnings too.": "市教育局的清单：也包括全市层面的预警。",
    "LEFT RIGHT [LEFT RIGHT …] [same|different]: mention keys or person IDs (P…).": "LEFT RIGHT [LEFT RIGHT …] [same|different]：记录键或人员编号（P…）。",
    "LEFT RIGHT [LEFT RIGHT …] of decided pairs.": "已判定记录对的 LEFT RIGHT [LEFT RIGHT …]。",
    "One line per school: its open and acknowledged warnings by level and its worst item.": "每校一行：未处理和已确认的预警按级别计数，以及最严重的一项。",
    "One of: ingest, govern, compute, scorecard, fit, steward, exam_mastery, value_added, fitness_scores, health_screening, psych_screening, growth_scores, scale.": (
        "以下之一：ingest、govern、compute、scorecard、fit、steward、exam_mastery、value_added、fitness_scores、health_screening、psych_screening、growth_scores、scale。"
    ),
    "Put it into effect at once.": "立即生效。",
    "Put the decisions into effect without a full run: re-resolve only the persons they touch (no re-training) and publish a new warehouse version.": "不必完整运行即让判定生效：只对涉及的人员重新归并（不重新训练），并发布数据仓新版本。",
    "Record one decision per pair, each on its own (a refused pair is reported, the others kept); by default they take effect at once (the touched persons are re-resolved).": "逐对记录判定，各自独立（被拒绝的一对会报告原因，其余保留）；默认立即生效（涉及的人员重新归并）。",
    "The queue: pairs to decide first, most impact first, then decided ones, with their state (待定 / 已判定·生效中 / 已生效) and both mentions side by side (differences marked ≠).": "审核队列：先列待判定的记录对（影响大的在前），再列已判定的，附状态（待定 / 已判定·生效中 / 已生效），两条记录并排对照（不同之处标 ≠）。",
    "The same condition grouped across units (rule × indicator × threshold × 学段).": "跨单位合并同一条件（规则 × 指标 × 阈值 × 学段）。",
    "Validate, normalise and load exports into the warehouse; bad rows go to quarantine. `edubrain ingest draft-mapping FILE [--out DRAFT.yaml]` loads nothing: it writes a draft mapping for a file no mapping recognises, to review and put in the workspace's mappings/.": "校验、规范化导出文件并载入数据仓；有问题的行进入隔离区。`edubrain ingest draft-mapping FILE [--out DRAFT.yaml]` 不载入数据：为无法识别的文件生成映射草稿，供审阅后放入工作区的 mappings/。",
    "Who undoes.": "撤销人。",
    "With draft-mapping: write the draft YAML to this file.": "与 draft-mapping 一起用：把映射草稿 YAML 写入此文件。",
    "Withdraw the newest decision in force on each pair (undoing an undo restores it); appended, never deleted. The pair returns to the queue.": "撤销每对记录当前生效的最新判定（撤销一次撤销即恢复原判定）；只追加、不删除。该对记录回到审核队列。",
    "open, acknowledged or resolved (repeatable).": "open、acknowledged 或 resolved（可重复）。",
    "same | different (or give it last).": "same | different（也可放在最后）。",
    "本周待决策: the open red/orange conditions a leader must decide (at most 10).": "本周待决策：需要领导决定的未处理红/橙条件（最多 10 条）。",
}

# ---- click's and typer's own words (usage, panels, usage errors) ------------------------------
TOOLKIT_ZH: dict[str, str] = {
    "Usage:": "用法：",
    "Usage: ": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Arguments": "参数",
    "Error": "错误",
    "Aborted.": "已中止。",
    "Aborted!": "已中止！",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。"
    ),
    "Show this message and exit.": "显示此帮助并退出。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "env var: {var}": "环境变量：{var}",
}

# click's usage errors, written in its code rather than through gettext: (pattern, 中文)
TOOLKIT_PATTERNS_ZH: list[tuple[str, str]] = [
    (r"^No such option: (?P<name>\S+)", "没有选项 {name}"),
    (r" ?\(Possible options: (?P<names>.*)\)$", "（可用的选项：{names}）"),
    (r"^No such command '(?P<name>[^']*)'\.\.?", "没有命令 '{name}'。"),
    (r"\.? ?Did you mean (?P<names>.*)\?$", "是不是要用 {names}？"),
    (r"^Missing argument '(?P<name>[^']*)'\.", "缺少参数 '{name}'。"),
    (r"^Missing option '(?P<name>[^']*)'\.", "缺少选项 '{name}'。"),
    (r"^Missing command\.$", "缺少命令。"),
    (r"^Got unexpected extra argument(s|\(s\))? \((?P<args>.*)\)$", "多余的参数（{args}）"),
    (r"^Invalid value for (?P<hint>.+?): ", "{hint} 的值无效："),
    (r"Input should be greater than or equal to (?P<n>\S+)$", "应大于或等于 {n}"),
    (r"Input should be less than or equal to (?P<n>\S+)$", "应小于或等于 {n}"),
    (r"Input should be a valid integer.*$", "应为整数"),
    (r"Input should be a valid number.*$", "应为数字"),
    (r"(?P<value>\S+) is not in the range (?P<range>.+)\.$", "{value} 不在范围 {range} 内。"),
    (r"Value (?P<value>.+) is not a valid (?P<label>.+)\.$", "{value} 不是有效的值（{label}）。"),
]

# Errors the library raises with an English message, by pattern: (pattern, 中文). The rest show
# their English message after the Chinese kind (`edubrain：错误（未找到）：…`).
ERROR_PATTERNS_ZH: list[tuple[str, str]] = [
    (r"^unknown entity (?P<name>'[^']*'); the standard has: (?P<known>.*)$",
     "未知实体 {name}；数据标准中有：{known}"),
    (r"^no warning (?P<id>'[^']*') \(edubrain warnings list\)$",
     "没有预警 {id}（查看：edubrain warnings list）"),
    (r"^warning (?P<id>\S+) is already resolved$", "预警 {id} 已解除"),
    (r"^warning (?P<id>\S+) was changed meanwhile; look again$", "预警 {id} 刚被他人修改；请重新查看"),
    (r"^no indicator values yet: run `edubrain indicators compute`$",
     "还没有指标值：请先运行 edubrain indicators compute"),
    (r"^(?P<out>.+) is not empty; use --force to write into it anyway$",
     "{out} 不是空文件夹；确需写入请加 --force"),
    (r"^(?P<out>.+) exists and is not a folder$", "{out} 已存在且不是文件夹"),
    (r"^invalid setting: (?P<problems>.*)$", "设置无效：{problems}"),
    (r"^not a recognised export \(no source mapping matches its name, and it is not "
     r"<entity>\.csv/\.parquet\); use --source NAME or --standard ENTITY$",
     "不是可识别的导出文件（文件名不符合任何源系统映射，也不是 实体名.csv/.parquet）；"
     "请用 --source 源系统 或 --standard 实体 指明"),
    (r"^the name matches no export of source (?P<source>'[^']*') \((?P<globs>.*)\)$",
     "文件名不符合源系统 {source} 的任何导出（{globs}）"),
    (r"^no such file or folder$", "没有这个文件或文件夹"),
    (r"^is empty \(no header, no rows\)$", "是空文件（没有表头，也没有数据行）"),
    (r"^cannot be read \((?P<why>.*)\)$", "无法读取（{why}）"),
    # Written 中文 (English) by the library: the Chinese part.
    (r"^(?P<chinese>.*[\u4e00-\u9fff][^()]*) \((?P<english>[A-Za-z][^()]*)\)$", "{chinese}"),
]  # fmt: skip

# ---- what commands print: progress, summaries, table heads, errors ---------------------------
SAY_ZH: dict[str, str] = {
    "{checks} health checks screened.": "已筛查 {checks} 条体检记录。",
    "{sittings} sittings scored.": "已为 {sittings} 人次测评计分。",
    "{pupils} pupils scored.": "已为 {pupils} 名学生计分。",
    "{records} fitness tests scored; {complete} complete, {missing} with missing items.": "已为 {records} 条体测成绩评分：{complete} 条完整，{missing} 条缺项。",
    "{fitted} of {exams} exams fitted; {rows} value-added rows stored.": "{exams} 场考试中已拟合 {fitted} 场；存入 {rows} 行增值结果。",
    # errors: the kinds (the API's problem titles) and the one-line form
    "invalid input": "输入无效",
    "not found": "未找到",
    "conflict": "冲突",
    "gone": "已失效",
    "locked": "已锁定",
    "too many requests": "请求过于频繁",
    "unavailable": "暂不可用",
    "not logged in": "未登录",
    "not allowed": "没有权限",
    "internal error": "内部错误",
    "edubrain: error ({kind}): {message}": "edubrain：错误（{kind}）：{message}",
    "edubrain: error: {file}: {error}{hint}": "edubrain：错误：{file}：{error}{hint}",
    # exit codes (docs/cli.md)
    "done": "完成",
    "failed unexpectedly: a bug or an engine failure (`--debug` shows the traceback)": (
        "意外失败：程序缺陷或引擎故障（加 --debug 查看调用栈）"
    ),
    "the command is wrong: fix what was asked (click's usage errors exit 2 too)": (
        "命令有误：请改正所给的参数（命令用法错误也以 2 退出）"
    ),
    "try again later, or once an operator has fixed the store, warehouse or key": (
        "请稍后再试，或等管理员修复业务库、数据仓或密钥后再试"
    ),
    # ingest
    "edubrain ingest": "导入结果",
    "ingest": "导入",
    "file": "文件",
    "entity": "实体",
    "read": "读取",
    "accepted": "接受",
    "inserted": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "quarantined": "隔离",
    "reasons": "原因",
    "loaded": "已导入",
    "failed": "失败",
    "skipped": "已跳过",
    "give --source or --standard, not both": "--source 和 --standard 只能给一个",
    "{loaded} loaded, {failed} failed, {skipped} skipped; "
    "{rows_read:,} rows read, {rows_quarantined:,} quarantined.": (
        "导入 {loaded} 个文件，失败 {failed} 个，跳过 {skipped} 个；"
        "读取 {rows_read:,} 行，隔离 {rows_quarantined:,} 行。"
    ),
    # quarantine
    "quarantine (隔离区)": "隔离区",
    "open, resolved or all": "open、resolved 或 all",
    "no quarantined rows match": "没有符合条件的隔离行。",
    "reason": "原因",
    "原因": "原因",
    "status": "状态",
    "rows": "行数",
    "row_number": "行号",
    "field": "字段",
    "message": "说明",
    # warnings
    "id": "编号",
    "level": "级别",
    "rule": "规则",
    "open": "未处理",
    "acknowledged": "已认领",
    "resolved": "已解除",
    "opened": "发出",
    "reopened": "重新打开",
    "warnings (预警): {n}": "预警：{n} 条",
    "; first {limit} shown": "；显示前 {limit} 条",
    "{id} acknowledged by {who}": "{id} 已由 {who} 认领",
    "{id} resolved by {who}": "{id} 已由 {who} 解除",
    "{at:%Y-%m-%d %H:%M:%S} {event:<13} {level:<6} by {who}": (
        "{at:%Y-%m-%d %H:%M:%S} {event:<6} {level:<2} 处理人 {who}"
    ),
    "most severe county-level warnings": "最严重的县级预警",
    "trend": "趋势",
    "target_gap": "目标差距",
    "decline": "连续下降",
    # indicators
    "run {run_id}: {indicators} indicators, {values:,} values for {year} in {seconds:.1f} s": (
        "计算 {run_id}：{year} 学年 {indicators} 个指标，{values:,} 个值，用时 {seconds:.1f} 秒"
    ),
    "skipped {id}: {why}": "跳过 {id}：{why}",
    "the quality scorecard was not computed": "尚未计算数据质量评分卡",
    "not asked for": "本次未要求",
    "warnings: {opened} opened, {updated} updated, {reopened} reopened, "
    "{resolved} resolved, {unchanged} unchanged (edubrain warnings list)": (
        "预警：新发出 {opened} 条，更新 {updated} 条，重新打开 {reopened} 条，"
        "解除 {resolved} 条，未变 {unchanged} 条（查看：edubrain warnings list）"
    ),
    "warnings not evaluated: {why}": "未评估预警：{why}",
    "indicator": "指标",
    "value": "值",
    "unit": "单位",
    "threshold": "阈值",
    "grains": "统计层级",
    "indicator catalogue (指标目录)": "指标目录",
    "indicators {year} at grain {grain} (latest run)": "{year} 学年指标，按{grain}（最近一次计算）",
    "no values at this grain (edubrain indicators show --list)": (
        "此层级没有指标值（指标目录见 edubrain indicators show --list）"
    ),
    # govern
    "run {run_id}: {mentions} mentions → {persons} pupils + {staff} staff; events: {events}; "
    "{review} pairs to review; {seconds:.1f} s": (
        "治理 {run_id}：{mentions:,} 条记录 → {persons:,} 名学生 + {staff:,} 名教职工；"
        "标识变化：{events}；待审核 {review:,} 对；用时 {seconds:.1f} 秒"
    ),
    "create": "新建",
    "merge": "合并",
    "split": "拆分",
    "pairwise precision {precision:.4f}, recall {recall:.4f}": (
        "成对精确率 {precision:.4f}，召回率 {recall:.4f}"
    ),
    "review queue (待审核)": "待审核队列",
    "review_id": "审核编号",
    "mention_key_l": "左侧记录",
    "mention_key_r": "右侧记录",
    "match_probability": "匹配概率",
    "match weights": "匹配权重",
    "same": "同一人",
    "different": "不同人",
    "recorded: {a} and {b} are {verdict}; applied on the next `edubrain govern`": (
        "已记录：{a} 和 {b} 是{verdict}；下次运行 edubrain govern 时生效"
    ),
    "{old} was merged into {active}": "{old} 已合并到 {active}",
    "golden record {id}": "黄金记录 {id}",
    "source": "来源",
    "load_id": "批次",
    "mention_key": "原始记录",
    "conflict {field}: chose {value} ({rule}); {others}": "冲突 {field}：选用 {value}（{rule}）；{others}",
    "decision {field} = {value} by {who} at {at} {note}": (
        "判定 {field} = {value}，判定人 {who}，时间 {at} {note}"
    ),
    "value conflicts (字段冲突)": "字段冲突",
    "person_id": "人员标识",
    "chosen_value": "选用值",
    "other values": "其他值",
    "recorded: {field} of {active} is {value!r}; applied on the next `edubrain govern`": (
        "已记录：{active} 的 {field} 为 {value!r}；下次运行 edubrain govern 时生效"
    ),
    # diagnose
    "{student} ({class_key}): mastery, weakest first": "{student}（{class_key}）：掌握度，最薄弱的在前",
    "{students:,} students × {points} knowledge points from {responses:,} responses on "
    "{items:,} items; one-step-ahead AUC {auc:.3f}; {seconds:.1f} s → {file}": (
        "{students:,} 名学生 × {points} 个知识点，{items:,} 道题的 {responses:,} 条作答；"
        "下一题预测准确度（曲线下面积）{auc:.3f}；用时 {seconds:.1f} 秒 → {file}"
    ),
    "students": "学生数",
    "knowledge point": "知识点",
    "name": "名称",
    "mastery": "掌握度",
    "± sd": "± 标准差",
    "attempts": "作答次数",
    "item": "题目",
    "target point": "目标知识点",
    "success": "预计答对率",
    "target mastery": "目标掌握度",
    "times wrong": "错误次数",
    "retry": "再练",
    "mean mastery": "平均掌握度",
    "layer": "层",
    "size": "人数",
    "focus points": "重点知识点",
    "Next practice (个性化练习)": "个性化练习",
    "错题本 (wrong items, similar items to retry)": "错题本（做错的题和可再练的相似题）",
    "Classes in the diagnosis (use --class KEY)": "诊断中的班级（用 --class 班级代码 查看）",
    "{class_key}: class mean mastery per knowledge point (heatmap)": "{class_key}：全班各知识点平均掌握度（热力图）",
    "Layered groups (分层教学)": "分层教学分组",
    "--band {band!r}: give two numbers, e.g. 0.6,0.8": "--band {band!r}：请给两个数，如 0.6,0.8",
    # diagnose exams (cognitive diagnosis of exam papers)
    "An exam id (repeatable); without it, every exam.": "考试编号（可重复）；不给则诊断全部考试。",
    "Cognitive diagnosis of exam papers: DINA and G-DINA on the items' knowledge points,\n"
    "the better fit (BIC) per paper; writes each pupil's mastery (exam_mastery), as a job.": (
        "考试认知诊断：按试题的知识点标注拟合 DINA 与 G-DINA 模型，每份试卷选用拟合更好的"
        "（贝叶斯信息准则较小）；写入每名学生的知识点掌握度，作为任务记录。"
    ),
    "Cognitive diagnosis of exam papers": "考试认知诊断",
    "exam": "考试",
    "pupils": "学生数",
    "attributes": "诊断项数",
    "DINA BIC": "DINA 信息准则",
    "G-DINA BIC": "G-DINA 信息准则",
    "model": "选用模型",
    "notices": "说明",
    "{diagnosed} of {papers} papers diagnosed; {rows:,} mastery rows": (
        "{papers} 份试卷中 {diagnosed} 份完成诊断；掌握度 {rows:,} 行"
    ),
    # indicators explain and plans
    "formula: {formula}": "公式：{formula}",
    "counted: {filters}": "统计范围：{filters}",
    "note: {notes}": "注：{notes}",
    "school: {name} ({code}), {stage}, {urban_rural}, county {county}; school year {year}": (
        "学校：{name}（{code}），{stage}，{urban_rural}，所属县 {county}；学年 {year}"
    ),
    "inputs ({rows} rows)": "输入数据（{rows} 行）",
    "arithmetic: {arithmetic}": "计算过程：{arithmetic}",
    "met": "达标",
    "NOT met": "未达标",
    "—": "—",
    "threshold ({grains}): {op} {value:g} → {verdict}; {source} [{reliability}]": (
        "阈值（{grains}）：{op} {value:g} → {verdict}；{source} [{reliability}]"
    ),
    "stage_county": "县内学段",
    "stored: {value} at grain {grain}, run {run_id} ({at}), definition v{version};": (
        "已保存：{value}，层级 {grain}，计算 {run_id}（{at}），定义版本 {version}；"
    ),
    "matches the recomputation": "与重新计算一致",
    "[yellow]differs from the recomputation: data changed since[/]": (
        "[yellow]与重新计算不一致：此后数据有变化[/]"
    ),
    "input {table}: {provenance}": "输入 {table}：{provenance}",
    "{rows:,} rows": "{rows:,} 行",
    "{loads} loads, last {load_id} at {at}": "{loads} 次导入，最近一次 {load_id}，时间 {at}",
    "stored: no stored value yet (edubrain indicators compute)": (
        "已保存：还没有保存的值（请运行 edubrain indicators compute）"
    ),
    "plan targets ({year})": "规划目标（{year}）",
    "baseline": "基线",
    "target": "目标",
    "now": "现值",
    "expected": "应达",
    "progress": "进度",
    "requirement": "要求",
    "result": "结果",
    "pass": "达标",
    "no value": "无值",
    "fail": "未达标",
    "共性要求 checklist": "共性要求清单",
    "n/a: {reason}": "无法计算：{reason}",
    # generate
    "{students} students, {counties} county/counties → {out}": "{students} 名学生，{counties} 个县 → {out}",
    "folder": "文件夹",
    "fault": "故障",
    "done in {seconds:.1f} s": "完成，用时 {seconds:.1f} 秒",
    "truth rows per entity": "真实答案：各实体行数",
    "injected faults": "注入的故障",
    # docs
    "nothing": "无",
    "stale: {files} (run `edubrain docs`)": "已过期：{files}（请运行 edubrain docs）",
    "stale: {files}": "已过期：{files}",
    "written: {files}": "已写入：{files}",
    # keys
    "key file {path}: current key {key}": "密钥文件 {path}：当前密钥 {key}",
    "rotated to key {new}: {warehouse:,} warehouse and {store:,} store values re-sealed in "
    "{seconds:.1f} s; key {old} removed": (
        "已轮换到密钥 {new}：数据仓 {warehouse:,} 个值、业务库 {store:,} 个值重新加密，"
        "用时 {seconds:.1f} 秒；旧密钥 {old} 已删除"
    ),
    "sealing is switched off (EDUBRAIN_SEAL_CORE_FIELDS=false)": (
        "核心数据加密已关闭（EDUBRAIN_SEAL_CORE_FIELDS=false）"
    ),
    "an interrupted rotation still holds {keys}: rerun rotate": (
        "一次中断的轮换仍保留着 {keys}：请再运行一次 rotate"
    ),
    "the warehouse opens under this key file": "数据仓可用此密钥文件打开",
    "the warehouse holds nothing sealed yet": "数据仓中还没有加密的数据",
    "finishing the interrupted rotation to key {new}": "正在完成中断的轮换，新密钥 {new}",
    "rotating from key {old} to {new} ({path})": "正在从密钥 {old} 轮换到 {new}（{path}）",
    "{where} {table}: {values:,} values re-sealed": "{where} {table}：{values:,} 个值已重新加密",
    "warehouse": "数据仓",
    "store": "业务库",
    # quality
    "worst": "最弱维度",
    "severity": "严重程度",
    "description": "说明",
    "error": "错误",
    "warning": "警告",
    "resolving": "可关联",
    "rate %": "互通率 %",
    "Drill down: edubrain quality --rules, then edubrain quality --rule ID": (
        "下钻：先运行 edubrain quality --rules，再运行 edubrain quality --rule 规则编号"
    ),
    "--by {by!r}: use a comma list of source, school, load, entity (got {unknown})": (
        "--by {by!r}：请用逗号分隔的 source、school、load、entity（无法识别：{unknown}）"
    ),
    "data quality (数据质量) as of {when}": "数据质量（截至 {when}）",
    "[yellow]stale:[/] {source}/{entity} last loaded {last} ({days} days; limit {limit})": (
        "[yellow]数据过期：[/]{source}/{entity} 最近一次导入于 {last}（已 {days} 天；上限 {limit} 天）"
    ),
    "--as-of {as_of!r} is not a date (YYYY-MM-DD)": "--as-of {as_of!r} 不是日期（年-月-日）",
    "quality rules (质量规则)": "质量规则",
    "{rule} (first {limit})": "{rule}（前 {limit} 行）",
    "数据互通率 (records resolving to a 学籍 pupil, through record linkage)": (
        "数据互通率（能关联到学籍学生的记录，经记录关联）"
    ),
    "数据互通率 (records resolving to a 学籍 pupil)": "数据互通率（能关联到学籍学生的记录）",
    # service, users, audit
    "edubrain: 工作区还没有数据：服务照常启动；请先运行 edubrain ingest 文件夹，"
    "或在数据办公室页上传导出文件（或 edubrain demo） — the workspace holds no data yet": (
        "edubrain：工作区还没有数据：服务照常启动；请先运行 edubrain ingest 文件夹，"
        "或在数据办公室页上传导出文件（或 edubrain demo）"
    ),
    "Password:": "密码：",
    "added {user} ({role}, {level}:{key})": "已添加 {user}（{role}，{level}:{key}）",
    "audit chain intact: {records} records, head {head}": "审计链完整：{records} 条记录，链头 {head}",
    "audit chain BROKEN at record {seq}: {problem}": "审计链在第 {seq} 条记录处断裂：{problem}",
    # standard
    "type": "类型",
    "required": "必填",
    "data class": "数据分级",
    "natural key": "业务主键",
    "fields": "字段数",
    "yes": "是",
    "string": "文本",
    "integer": "整数",
    "decimal": "小数",
    "date": "日期",
    "datetime": "日期时间",
    "boolean": "是否",
    "code": "代码",
    "code_list": "代码列表",
    # jobs
    "No jobs yet.": "还没有任务。",
    "{id} queued": "{id} 已排队",
    "{papers} papers: {base} base, {linked} linked, {unlinked} not linked, {failed} not calibrated; {items} items, {pupils} pupils scored": "{papers} 份试卷：基准卷 {base} 份，已等值 {linked} 份，未能等值 {unlinked} 份，未定标 {failed} 份；定标 {items} 道题，{pupils} 名学生得到能力值和量尺分",
    "started {line}": "开始 {line}",
    # the demo's tour
    "[bold]1/4[/] Generating a synthetic county of {students:,} students ...": (
        "[bold]1/4[/] 生成一个有 {students:,} 名学生的合成县 ……"
    ),
    "done in {seconds:.1f} s{to}": "完成，用时 {seconds:.1f} 秒{to}",
    "[bold]2/4[/] Ingesting every export into the warehouse ...": (
        "[bold]2/4[/] 把全部导出文件导入数据仓 ……"
    ),
    "Ingestion by source (导入汇总)": "导入汇总（按来源）",
    "files": "文件数",
    "top reasons": "主要原因",
    "standard": "标准格式",
    "{files} files, {read:,} rows read = {accepted:,} accepted + {quarantined:,} quarantined": (
        "{files} 个文件，读取 {read:,} 行 = 接受 {accepted:,} 行 + 隔离 {quarantined:,} 行"
    ),
    "[green](every file balances)[/]": "[green]（每个文件都对得上）[/]",
    "[red](IMBALANCE: a bug)[/]": "[red]（行数对不上：程序缺陷）[/]",
    "Injected faults in truth/faults.csv: {faults:,}.": (
        "注入的故障（truth/faults.csv）：{faults:,} 处。"
    ),
    "[bold]3/4[/] Governing: quality scorecard, record linkage (一人一码) ...": (
        "[bold]3/4[/] 数据治理：质量评分卡、记录关联（一人一码）……"
    ),
    "Data quality by source (数据质量, 数据互通率)": "数据质量与数据互通率（按来源）",
    "records": "记录数",
    "score": "得分",
    "worst dimension": "最弱维度",
    "互通率 %": "互通率 %",
    "completeness": "完整性",
    "validity": "有效性",
    "uniqueness": "唯一性",
    "consistency": "一致性",
    "referential_integrity": "关联完整性",
    "timeliness": "及时性",
    "Record linkage: {mentions:,} pupil mentions → {persons:,} pupils (+ {staff:,} staff "
    "by ID number), {review:,} doubtful pairs in the steward's queue": (
        "记录关联：{mentions:,} 条学生记录 → {persons:,} 名学生（另按身份证件号识别 {staff:,} 名"
        "教职工），{review:,} 对存疑记录进入待审核队列"
    ),
    "; against the generator's truth: pairwise precision {precision:.4f}, recall {recall:.4f}": (
        "；对照生成器的真实答案：成对精确率 {precision:.4f}，召回率 {recall:.4f}"
    ),
    ".": "。",
    "[bold]学情诊断[/]: BKT per knowledge point on the practice log, fairness audit": (
        "[bold]学情诊断[/]：按知识点在练习记录上做知识追踪，并做公平性审计"
    ),
    "{students:,} students × {points} points from {responses:,} responses, "
    "one-step AUC {auc:.3f}, {seconds:.1f} s": (
        "{students:,} 名学生 × {points} 个知识点，{responses:,} 条作答，"
        "下一题预测准确度（曲线下面积）{auc:.3f}，用时 {seconds:.1f} 秒"
    ),
    "Fairness audit by {attribute} (公平性审计)": "公平性审计（按{attribute}）",
    "urban_rural": "城乡",
    "sex": "性别",
    "metric": "度量",
    "urban": "城区",
    "town": "镇区",
    "rural": "乡村",
    "unknown": "未知",
    "true_target_unmastered": "推荐目标真实未掌握率",
    "gap": "差距",
    "prediction_auc": "预测曲线下面积",
    "mastery_correlation": "掌握度相关系数",
    "mastery_accuracy": "掌握度准确率",
    "mastery_brier": "掌握度布里尔分数",
    "recommendation_coverage": "推荐覆盖率",
    "recommended_success": "推荐题答对率",
    "true_success": "真实答对率",
    "success_calibration": "答对率校准",
    "[bold]4/4[/] Computing the indicator catalogue (指标) and warnings (预警) ...": (
        "[bold]4/4[/] 计算指标目录和预警 ……"
    ),
    "{indicators} indicators, {values:,} values for {year} in {seconds:.1f} s": (
        "{year} 学年 {indicators} 个指标，{values:,} 个值，用时 {seconds:.1f} 秒"
    ),
    "Headline indicators (核心指标, county)": "核心指标（全县）",
    "学段": "学段",
    "达标": "达标",
    "Open warnings (预警): {n} — {counts}": "未处理的预警：{n} 条 — {counts}",
    "See why rows were rejected: EDUBRAIN_HOME={home} {again} quarantine --summary": (
        "查看被拒绝的行及原因：EDUBRAIN_HOME={home} {again} quarantine --summary"
    ),
    "Drill into quality: EDUBRAIN_HOME={home} {again} quality --rules": (
        "下钻数据质量：EDUBRAIN_HOME={home} {again} quality --rules"
    ),
    "Demo accounts (演示账号) — passwords are shown only once": "演示账号（密码只显示这一次）",
    "user": "账号",
    "password": "密码",
    "role": "角色",
    "scope": "范围",
    "province": "省",
    "city": "市",
    "county": "县",
    "school": "学校",
    "class": "班级",
    "self": "本人",
    "Serve the API and the cockpit: EDUBRAIN_HOME={home} edubrain serve, then open "
    "http://{host}:{port}/ and log in as above": (
        "启动接口和驾驶舱：EDUBRAIN_HOME={home} edubrain serve，然后打开 "
        "http://{host}:{port}/ 用上面的账号登录"
    ),
    "Indicators and warnings: EDUBRAIN_HOME={home} {again} indicators show; "
    "... warnings list; ... indicators explain ID --school CODE": (
        "指标和预警：EDUBRAIN_HOME={home} {again} indicators show；"
        "…… warnings list；…… indicators explain 指标编号 --school 学校标识码"
    ),
    "Total time {seconds:.1f} s.": "总用时 {seconds:.1f} 秒。",
}

ZH: dict[str, str] = {
    " ".join(english.split()): chinese for english, chinese in {**HELP_ZH, **SAY_ZH}.items()
}
